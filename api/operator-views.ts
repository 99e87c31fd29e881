// The JSON shapes the operator API answers with (SessionView, AuditView, ChannelView, operator,
// paging), as zod schemas the routes serialize and document with, and the pure conversions from
// store records. Response schemas hold no transforms: answers are encoded through them.
import { z } from 'zod';
import { OPERATOR_ROLES } from '../shared/operator-role.js';
import { CLOSE_REASONS, SESSION_STATES } from '../shared/session/session-machine.js';
import { sessionView, type SessionRecord } from '../shared/session/session.schema.js';
import type { AuditEntry } from '../shared/store/audit.store.js';
import type { TicketLinker } from '../ticketing/ticket-links.js';

export const operatorViewSchema = z.object({ name: z.string(), role: z.enum(OPERATOR_ROLES) }).meta({ id: 'Operator' });

const ticketViewSchema = z.object({
  system: z.string(),
  id: z.string(),
  subject: z.string().optional().describe('as the help desk sent it when it provisioned the session: untrusted, show as text only'),
  url: z.string().nullable().describe("the ticket in its help desk's web UI; null when its base URL is not known"),
});

/** `sessionView()` of shared/session/session.schema.ts, plus the ticket's link (`apiSessionView`). */
export const sessionViewSchema = z
  .object({
    id: z.string(),
    serial: z.string(),
    product: z.enum(['sma', 'sda']),
    version: z.string().optional(),
    state: z.enum(SESSION_STATES),
    reason: z.enum(CLOSE_REASONS).optional(),
    ports: z.array(z.number().int()),
    issuedAt: z.string(),
    expiresAt: z.string(),
    activatedAt: z.string().optional(),
    closedAt: z.string().optional(),
    ticket: ticketViewSchema.optional(),
    email: z.string().optional(),
  })
  .meta({ id: 'SessionView' });
export type SessionView = z.infer<typeof sessionViewSchema>;

/** The API's SessionView: the shared view, the ticket with its link in the help desk (or null). */
export function apiSessionView(s: SessionRecord, link: TicketLinker): SessionView {
  const v = sessionView(s);
  return { ...v, ticket: v.ticket ? { ...v.ticket, url: link(v.ticket) } : undefined };
}

export const auditViewSchema = z
  .object({
    id: z.string().describe('stream entry id; also the paging cursor'),
    type: z.string(),
    at: z.string(),
    actor: z.string().nullable().describe('who did it; null for entries that name no actor (engineer channels)'),
    sid: z.string().optional(),
    serial: z.string().optional(),
    fields: z.record(z.string(), z.string()),
  })
  .meta({ id: 'AuditView' });
export type AuditView = z.infer<typeof auditViewSchema>;

export const channelViewSchema = z
  .object({
    engineer: z.string(),
    port: z.number().int(),
    openedAt: z.string(),
    closedAt: z.string().optional(),
    bytesIn: z.number().int().optional().describe('bytes from the engineer into the appliance'),
    bytesOut: z.number().int().optional().describe('bytes from the appliance out to the engineer'),
  })
  .meta({ id: 'ChannelView' });
export type ChannelView = z.infer<typeof channelViewSchema>;

/** Every list answer pages: pass `nextCursor` back as `?cursor=`; null at the end. */
export const nextCursorSchema = z.string().nullable();
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(200).optional(),
};

const iso = (ms: number) => new Date(ms).toISOString();

export function auditView(e: AuditEntry): AuditView {
  const { actor, sid, serial, ...fields } = e.fields;
  return { id: e.id, type: e.type, at: iso(e.at), actor: actor || null, ...(sid ? { sid } : {}), ...(serial ? { serial } : {}), fields };
}

const count = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/** Engineer channels of one session from its audit entries (oldest first): each open paired with its close. */
export function channelsOf(entries: readonly AuditEntry[]): ChannelView[] {
  const channels: ChannelView[] = [];
  const open = new Map<string, ChannelView[]>();
  for (const e of entries) {
    const engineer = e.fields.engineer;
    const port = Number(e.fields.port);
    if (!engineer || !Number.isInteger(port)) continue;
    const key = `${engineer}\u0000${port}`;
    if (e.type === 'engineer.channel.opened') {
      const ch: ChannelView = { engineer, port, openedAt: iso(e.at) };
      channels.push(ch);
      open.set(key, [...(open.get(key) ?? []), ch]);
    } else if (e.type === 'engineer.channel.closed') {
      // Channels on one port close in any order; the byte counts are what the relay measured for the oldest open one.
      const ch = open.get(key)?.shift() ?? { engineer, port, openedAt: iso(e.at - Number(e.fields.durationMs ?? 0)) };
      if (!channels.includes(ch)) channels.push(ch);
      ch.closedAt = iso(e.at);
      const bytesIn = count(e.fields.bytesToAppliance);
      const bytesOut = count(e.fields.bytesFromAppliance);
      if (bytesIn !== undefined) ch.bytesIn = bytesIn;
      if (bytesOut !== undefined) ch.bytesOut = bytesOut;
    }
  }
  return channels;
}
