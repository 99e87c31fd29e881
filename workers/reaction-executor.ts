// Carries out what one audit entry asks of the pipeline: reads the session (and, for a close,
// whether its key went out), queues the jobs session-reactions.ts decides, and does the appliance
// store's and password custody's own steps (appliance-reactions.ts). Stores and producers are
// injected (interfaces), so it runs on the in-memory stores in unit tests; the audit bridge feeds it
// the entries it reads from the stream.
import type { KeyTextStore } from '../queues/key-text.store.js';
import type { Producers } from '../queues/producers.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { AuditEntry } from '../shared/store/audit.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import { applianceReactionsTo, type ApplianceReaction } from './appliance-reactions.js';
import { isMailAddress } from '../shared/mail/mail-address.js';
import { nextExpiryStep, planExpiry, reactionsTo, type Reaction } from './session-reactions.js';

export interface ReactionDeps {
  sessions: SessionStore;
  keyTexts: KeyTextStore;
  producers: Pick<Producers, 'scheduleExpiry' | 'cancelExpiry' | 'ticketComment' | 'notification'>;
  now: () => number;
  /** Inboxes of enrolled appliances and their open one-click tickets (skipped when absent). */
  appliances?: ApplianceStore | undefined;
  /** Support password custody: destroyed when the session closes (skipped when absent). */
  credentials?: Pick<CredentialStore, 'destroy'> | undefined;
  warnOffsetsMs: readonly number[];
}

/** Every reaction to `entry`, in order; throws (for a retry of the whole entry) when one fails. */
export async function reactToEntry(entry: AuditEntry, deps: ReactionDeps): Promise<void> {
  const sid = entry.fields.sid;
  if (!sid) return;
  const session = await deps.sessions.get(sid);
  // Only a close asks whether the key mail went out.
  const delivered = session && entry.type === 'session.closed' ? await deps.keyTexts.isDelivered(sid) : false;
  for (const r of reactionsTo(entry, session, { delivered })) await apply(r, sid, session, entry, deps);
  for (const r of applianceReactionsTo(entry, session)) await applyAppliance(r, sid, deps);
}

async function applyAppliance(r: ApplianceReaction, sid: string, deps: ReactionDeps): Promise<void> {
  switch (r.kind) {
    case 'remove-from-inbox':
      await deps.appliances?.removeFromInbox(r.serial, sid);
      return;
    case 'destroy-password':
      await deps.credentials?.destroy(sid);
      return;
    case 'forget-open-ticket':
      await deps.appliances?.forgetTicket(r.serial, r.ticket);
      return;
  }
}

async function apply(r: Reaction, sid: string, session: SessionRecord | null, entry: AuditEntry, deps: ReactionDeps): Promise<void> {
  const p = deps.producers;
  switch (r.kind) {
    case 'plan-expiry': {
      if (!session) return;
      // Only the first step is queued; each warning queues the next. A new session has no earlier
      // plan to replace (a second run of its entry plans the same job id).
      const now = deps.now();
      await p.scheduleExpiry(session, [nextExpiryStep(planExpiry(session, deps.warnOffsetsMs, now))], now, { replace: entry.type !== 'session.issued' });
      return;
    }
    case 'cancel-expiry':
      return p.cancelExpiry(sid);
    case 'forget-key-text':
      return deps.keyTexts.forget(sid);
    case 'comment':
      await p.ticketComment(r.ticket, r.body, r.jobId, sid);
      return;
    case 'notify':
      // An address stored before the edges checked it would fail this entry's every retry (and the
      // reactions after it): no mail for it, the rest goes on.
      if (!isMailAddress(r.to)) return;
      await p.notification({ template: r.template, to: [r.to], sid }, r.jobId);
      return;
  }
}
