// key-issue: mints the key and its ISSUED session (issueKey), closes the session it supersedes,
// and hands the key to delivery. Idempotent per ticket and serial: a retry after a crash adopts
// the live session it already minted, or replaces it when its key text was lost before delivery.
import type { Worker } from 'bullmq';
import { handOverKeyForDelivery } from '../queues/key-handover.js';
import type { KeyTextStore } from '../queues/key-text.store.js';
import type { JobData } from '../queues/job-schemas.js';
import type { Producers } from '../queues/producers.js';
import { JOB } from '../queues/queue-names.js';
import { isAppError } from '../shared/errors.js';
import type { SigningKey } from '../shared/key/key-files.js';
import type { Logger } from '../shared/logger.js';
import { issueKey, type RelayEndpoint } from '../shared/session/issue-key.js';
import type { ApplianceStore } from '../shared/store/appliance.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { liveSessionOfTicket } from './ticket-sessions.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface KeyIssueDeps {
  sessions: SessionStore;
  keyTexts: KeyTextStore;
  producers: Producers;
  signingKey: SigningKey;
  relay: RelayEndpoint;
  now: () => number;
  logger: Logger;
  /** Enrolled appliances get sealed keys, also placed in their inbox (push). */
  appliances?: ApplianceStore;
  /** Custody of generated support passwords. */
  credentials?: CredentialStore;
}

export type KeyIssueResult = { sid: string; adopted: boolean };

export async function processKeyIssue(data: JobData<typeof JOB.keyIssue>, deps: KeyIssueDeps): Promise<KeyIssueResult> {
  if (data.ticket) {
    const live = await liveSessionOfTicket(deps.sessions, data.ticket, data.serial);
    if (live) {
      if ((await deps.keyTexts.isDelivered(live.id)) || (await deps.keyTexts.get(live.id)) !== null) {
        await deps.producers.keyDelivery(live.id);
        return { sid: live.id, adopted: true };
      }
      // Minted, but the process died before the key text was stored: nobody can ever receive that
      // key, so a fresh one supersedes it below.
      deps.logger.warn({ sid: live.id }, 'replacing a session whose key text was lost before delivery');
    }
  }
  const issued = await issueKey(
    {
      serial: data.serial,
      product: data.product,
      version: data.version,
      ttlMs: data.ttlMs,
      ports: data.ports,
      ticket: data.ticket,
      email: data.email,
      passwordMode: data.passwordMode,
      actor: data.actor,
    },
    { sessions: deps.sessions, signingKey: deps.signingKey, relay: deps.relay, now: deps.now, appliances: deps.appliances, credentials: deps.credentials },
  );
  if (issued.superseded) {
    try {
      await deps.sessions.close(issued.superseded, 'superseded', data.actor, deps.now());
    } catch (err) {
      if (!isAppError(err, 'session_closed') && !isAppError(err, 'session_not_found')) throw err;
    }
  }
  await handOverKeyForDelivery({ keyTexts: deps.keyTexts, producers: deps.producers, now: deps.now }, issued);
  deps.logger.info({ sid: issued.session.id, serial: issued.session.serial, ticket: data.ticket, sealed: issued.sealed, pushed: issued.pushed }, 'key issued');
  return { sid: issued.session.id, adopted: false };
}

export function createKeyIssueWorker(deps: KeyIssueDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.keyIssue, (data) => processKeyIssue(data, deps), rt);
}
