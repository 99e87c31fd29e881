// key-issue: mints the key and its ISSUED session (issueKey, which closes the session it
// supersedes) and mails the key in the same job (key-mail.ts): one job per ticket and serial instead
// of two, with the same guarantees. Idempotent per ticket and serial: a retry after a crash or an
// SMTP failure adopts the live session it already minted (its key text waits sealed in Redis) and
// mails that key unless the delivery record says it went out. A live session of the ticket with
// neither key text nor delivery record is replaced only when this job minted it (the id it noted
// before minting) and it never connected: its key text was lost before it was stored. Any other
// (one-click, an operator's key handed over by phone) is adopted and nothing is mailed.
// A ticket's own request (actor `ticket:…`) mints nothing once the ticket is marked closed, and a
// session it minted while the close was being handled is closed before anything is mailed.
import type { Worker } from 'bullmq';
import type { ClosedTickets } from '../queues/closed-ticket.store.js';
import type { JobData } from '../queues/job-schemas.js';
import type { KeyTextStore } from '../queues/key-text.store.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import type { SigningKey } from '../shared/key/key-files.js';
import { isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Mailer } from '../shared/mail/mailer.js';
import { issueKey, newId, type KeyRelays } from '../shared/session/issue-key.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { TicketRef } from '../shared/session/session.schema.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { mailKeyOnce, type KeyMailResult } from './key-mail.js';
import { liveSessionOfTicket } from './ticket-sessions.js';
import { buildWorker, type JobContext, type WorkerRuntime } from './worker-kit.js';

export interface KeyIssueDeps {
  sessions: SessionStore;
  keyTexts: KeyTextStore;
  /** Marks of closed tickets: a ticket's own request mints nothing for a closed ticket. */
  closedTickets: ClosedTickets;
  producers: Producers;
  signingKey: SigningKey;
  relay: KeyRelays;
  mailer: Mailer;
  now: () => number;
  logger: Logger;
  /** Domain for deterministic Message-IDs (mailDomainOf(TETHER_MAIL_FROM)). */
  mailDomain: string;
  /** Support mailbox told of every key sent (TETHER_KEY_SENT_NOTICE=on); none when undefined. */
  keySentNoticeTo?: string | undefined;
  /** Enrolled appliances get sealed keys, also placed in their inbox (push). */
  appliances?: ApplianceStore;
  /** Custody of generated support passwords. */
  credentials?: CredentialStore;
  /** Waits until the new session and key text are on the Redis replicas (a failover must not lose a mailed key). */
  replicated?: (() => Promise<void>) | undefined;
}

/**
 * `not_mailed`: the ticket's live session was minted elsewhere without a key text for this job to mail.
 * `ticket_closed`: the ticket was closed first; `sid` is the session this job minted and closed, if any.
 */
export type KeyIssueResult =
  | { sid: string; adopted: boolean; mail: KeyMailResult | 'not_mailed' }
  | { sid: string | null; adopted: false; mail: 'ticket_closed' };

/** A ticket's own key request, as the ticket-events worker queues it (not an operator's key for it). */
function ticketOwnRequest(data: JobData<typeof JOB.keyIssue>): TicketRef | undefined {
  return data.ticket && data.actor === `ticket:${data.ticket.system}:${data.ticket.id}` ? data.ticket : undefined;
}

async function closeForClosedTicket(sid: string, actor: string, deps: KeyIssueDeps): Promise<boolean> {
  try {
    await deps.sessions.close(sid, 'ticket_closed', actor, deps.now());
    return true;
  } catch (err) {
    if (isAppError(err, 'session_closed') || isAppError(err, 'session_not_found')) return false;
    throw err;
  }
}

export async function processKeyIssue(data: JobData<typeof JOB.keyIssue>, deps: KeyIssueDeps, ctx?: Pick<JobContext, 'jobId'>): Promise<KeyIssueResult> {
  const jobId = ctx?.jobId || undefined;
  const ownTicket = ticketOwnRequest(data);
  // One round of reads: the ticket's close mark, its live session, and the session this job noted
  // it was about to mint (an earlier attempt's).
  const [closedBefore, live, noted] = await Promise.all([
    ownTicket ? deps.closedTickets.isClosed(ownTicket) : false,
    data.ticket ? liveSessionOfTicket(deps.sessions, data.ticket, data.serial) : null,
    jobId === undefined ? null : deps.keyTexts.mintedBy(jobId),
  ]);
  if (ownTicket && closedBefore) {
    // A session this job noted may be live: a run that died between minting and its second look.
    const closed = noted !== null && (await closeForClosedTicket(noted, data.actor, deps));
    deps.logger.info({ ticket: ownTicket, serial: data.serial, closed: closed ? noted : undefined }, 'ticket closed already: no key minted');
    return { sid: closed ? noted : null, adopted: false, mail: 'ticket_closed' };
  }
  if (live) {
    const delivered = await deps.keyTexts.isDelivered(live.id);
    const keyText = delivered ? null : await deps.keyTexts.get(live.id);
    if (delivered || keyText !== null) return { sid: live.id, adopted: true, mail: await mailKeyOnce(live, 'email', deps, { delivered, keyText }) };
    const ours = noted === live.id;
    if (!ours || live.state !== 'ISSUED' || live.activatedAt !== undefined) {
      // Someone else's key for this ticket (one-click, an operator's key handed over without mail),
      // or ours but already in use: superseding it would drop a tether the customer relies on.
      deps.logger.info({ sid: live.id, ticket: data.ticket, state: live.state, mintedHere: ours }, 'adopting the live session of the ticket; no key to mail');
      return { sid: live.id, adopted: true, mail: 'not_mailed' };
    }
    // Minted by this job, but the process died before the key text was stored: nobody can ever
    // receive that key, so a fresh one supersedes it below.
    deps.logger.warn({ sid: live.id }, 'replacing a session whose key text was lost before delivery');
  }
  const sid = newId();
  // Noted before minting, so that a retry knows the session it finds is its own.
  if (jobId !== undefined) await deps.keyTexts.recordMinting(jobId, sid, deps.now() + data.ttlMs, deps.now());
  const issued = await issueKey(
    {
      id: sid,
      serial: data.serial,
      product: data.product,
      version: data.version,
      ttlMs: data.ttlMs,
      ports: data.ports,
      ticket: data.ticket,
      ticketSubject: data.ticketSubject,
      email: data.email,
      passwordMode: data.passwordMode,
      actor: data.actor,
    },
    { sessions: deps.sessions, signingKey: deps.signingKey, relay: deps.relay, now: deps.now, appliances: deps.appliances, credentials: deps.credentials },
  );
  // Stored (sealed) before the mail goes out, so that a retry mails this key instead of minting
  // another. Beside it, a second look at the close mark: the close may have come while this job
  // minted, and looked for the ticket's sessions before this one existed. Then nothing is mailed and
  // the key text goes again.
  const [closedSince] = await Promise.all([
    ownTicket ? deps.closedTickets.isClosed(ownTicket) : false,
    deps.keyTexts.put(issued.session.id, issued.key, issued.session.expiresAt, deps.now()),
  ]);
  if (ownTicket && closedSince) {
    await closeForClosedTicket(issued.session.id, data.actor, deps);
    await deps.keyTexts.forget(issued.session.id);
    deps.logger.info({ sid: issued.session.id, ticket: ownTicket }, 'ticket closed while the key was minted: session closed, nothing mailed');
    return { sid: issued.session.id, adopted: false, mail: 'ticket_closed' };
  }
  deps.logger.info({ sid: issued.session.id, serial: issued.session.serial, ticket: data.ticket, sealed: issued.sealed, pushed: issued.pushed }, 'key issued');
  await deps.replicated?.();
  const mail = await mailKeyOnce(issued.session, 'email', deps, { delivered: false, keyText: issued.key });
  return { sid: issued.session.id, adopted: false, mail };
}

export function createKeyIssueWorker(deps: KeyIssueDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.keyIssue, (data, ctx) => processKeyIssue(data, deps, ctx), rt);
}
