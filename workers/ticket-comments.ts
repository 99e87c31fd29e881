// The wording of the comments the pipeline posts on tickets, one per session event. Pure; the
// comment goes through the ticket-sync queue. Internal notes, so they may name session ids.
import { CLOSE_REASON_TEXT, formatWhen } from '../shared/mail/mail-format.js';
import type { CloseReason } from '../shared/session/session-machine.js';
import type { SessionRecord } from '../shared/session/session.schema.js';

type Facts = Pick<SessionRecord, 'id' | 'serial' | 'product' | 'version' | 'expiresAt' | 'email'>;

function appliance(s: Facts): string {
  return `appliance ${s.serial} (${s.product.toUpperCase()}${s.version ? ` ${s.version}` : ''})`;
}

export const ticketComments = {
  keySent: (s: Facts) =>
    `Tether key for ${appliance(s)} sent to ${s.email ?? 'the requester'}. It is valid until ${formatWhen(s.expiresAt)}. Session ${s.id}.`,
  connected: (s: Facts, at: number) => `Tether connected: ${appliance(s)} opened its tunnel at ${formatWhen(at)}. Engineers can reach it now. Session ${s.id}.`,
  reconnected: (s: Facts, at: number) => `Tether reconnected: ${appliance(s)} is reachable again since ${formatWhen(at)}. Session ${s.id}.`,
  lost: (s: Facts, at: number) =>
    `Tether lost: no heartbeat from ${appliance(s)} (noticed ${formatWhen(at)}). It reconnects by itself while the session lives. Session ${s.id}.`,
  closed: (s: Facts, reason: CloseReason | undefined, at: number) =>
    `Tether closed at ${formatWhen(at)} because ${reason ? CLOSE_REASON_TEXT[reason] : 'it was closed'}: ${appliance(s)} is no longer reachable. Session ${s.id}.`,
} as const;
