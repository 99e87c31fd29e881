// One-click, after the request is authenticated: reuse the serial's open ticket (its live
// session's, or the one the last click opened) or create one through the help-desk adapter with
// the customer's description, then mint a key sealed to the appliance and hand it back.
import type { Producers } from '../queues/producers.js';
import { AppError, describeError, isAppError } from '../shared/errors.js';
import type { SigningKey } from '../shared/key/key-files.js';
import type { TetherResponse } from '../shared/protocol.js';
import { issueKey, type KeyRelays } from '../shared/session/issue-key.js';
import type { TicketRef } from '../shared/session/session.schema.js';
import type { ApplianceRecord, ApplianceStore } from '../shared/store/appliance.store.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { TicketAdapter } from '../ticketing/ticket-adapter.js';
import { HttpError } from './http-error.js';

/** How long a one-click ticket counts as the serial's open ticket without news of its closure. */
export const OPEN_TICKET_TTL_MS = 30 * 86_400_000;

export interface OneClickDeps {
  sessions: SessionStore;
  appliances: ApplianceStore;
  credentials: CredentialStore;
  audit: AuditLog;
  producers: Producers;
  adapter: TicketAdapter;
  signingKey: SigningKey;
  relay: KeyRelays;
  /** Life of one-click keys (TETHER_TICKET_KEY_TTL). */
  ttlMs: number;
  now: () => number;
}

export interface OneClickInput {
  appliance: ApplianceRecord;
  description: string;
  passwordMode: 'generated' | 'customer' | 'escrow';
}

async function reusableTicket(serial: string, deps: OneClickDeps): Promise<TicketRef | null> {
  const live = await deps.sessions.findLiveBySerial(serial);
  if (live?.ticket) return live.ticket;
  const open = await deps.appliances.openTicket(serial);
  if (!open) return null;
  // Help desks that can be asked get asked; a generic one answers null and the ticket is reused.
  const closed = open.system === deps.adapter.system ? await deps.adapter.isClosed(open).catch(() => null) : null;
  return closed === true ? null : open;
}

export async function oneClickTether(input: OneClickInput, deps: OneClickDeps): Promise<TetherResponse> {
  const a = input.appliance;
  const what = `${a.product.toUpperCase()} ${a.version} ${a.serial}`;
  let ticket = await reusableTicket(a.serial, deps);
  const ticketCreated = ticket === null;
  if (!ticket) {
    try {
      ticket = await deps.adapter.createTicket({
        subject: `Tether requested from ${what}`,
        description: input.description,
        appliance: { serial: a.serial, product: a.product, version: a.version },
      });
    } catch (err) {
      // A configuration problem will not pass by retrying: say what is missing.
      if (isAppError(err, 'config_invalid')) throw new HttpError(503, 'not_configured', `one-click cannot open a ticket: ${describeError(err)}`);
      throw new HttpError(503, 'unavailable', `the help desk could not open a ticket (${describeError(err)}); try again shortly`);
    }
  }
  await deps.appliances.rememberTicket(a.serial, ticket, OPEN_TICKET_TTL_MS);
  const issued = await issueKey(
    {
      serial: a.serial,
      product: a.product,
      version: a.version,
      ttlMs: deps.ttlMs,
      ticket,
      passwordMode: input.passwordMode,
      actor: `appliance:${a.serial}`,
      // The answer carries the key; the inbox is for keys the customer has not asked for here.
      push: false,
    },
    { sessions: deps.sessions, signingKey: deps.signingKey, relay: deps.relay, now: deps.now, appliances: deps.appliances, credentials: deps.credentials },
  );
  if (!issued.sealed) throw new AppError('internal', `key for enrolled appliance ${a.serial} came out unsealed`);
  const sid = issued.session.id;
  if (!ticketCreated) {
    // The reused ticket learns what the customer typed this time (through ticket-sync, retried).
    await deps.producers.ticketComment(ticket, `Enable Tether clicked again on ${what}: ${input.description}`, `oc-${sid}`, sid);
  }
  await deps.audit.append(
    'appliance.oneclick',
    { sid, serial: a.serial, actor: `appliance:${a.serial}`, ticket: `${ticket.system}:${ticket.id}`, ticketCreated: ticketCreated ? 'yes' : 'no' },
    deps.now(),
  );
  return {
    key: issued.key,
    session: { id: sid, expiresAt: new Date(issued.session.expiresAt).toISOString() },
    ticket,
    ticketCreated,
  };
}
