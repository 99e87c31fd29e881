// key-delivery: mails a key the operator minted (`tether key issue --email`, POST /v1/keys) to the
// session's requester, once per session and channel (key-mail.ts). Keys minted for tickets are
// mailed by the key-issue job itself and never pass through this queue.
import type { Worker } from 'bullmq';
import type { JobData } from '../queues/job-schemas.js';
import { JOB } from '../queues/queue-names.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { mailKeyOnce, type KeyMailDeps, type KeyMailResult } from './key-mail.js';
import { buildWorker, type WorkerRuntime } from './worker-kit.js';

export interface KeyDeliveryDeps extends KeyMailDeps {
  sessions: SessionStore;
}

export type KeyDeliveryResult = KeyMailResult;

export async function processKeyDelivery(data: JobData<typeof JOB.keyDelivery>, deps: KeyDeliveryDeps): Promise<KeyDeliveryResult> {
  return mailKeyOnce(await deps.sessions.require(data.sid), data.channel, deps);
}

export function createKeyDeliveryWorker(deps: KeyDeliveryDeps, rt: WorkerRuntime): Worker {
  return buildWorker(JOB.keyDelivery, (data) => processKeyDelivery(data, deps), rt);
}
