// Redis keys the pipeline owns beside the queues (under the same prefix as everything else):
// webhook delivery dedupe, the sealed key text waiting for delivery, delivery markers, records of
// sent notices, the index of a session's planned expiry jobs, and the audit consumer group.
import { createHash } from 'node:crypto';

export type PipelineKeys = ReturnType<typeof pipelineKeys>;

export function pipelineKeys(prefix: string) {
  const p = `${prefix}pipeline:`;
  return {
    /** SET NX with a TTL: the first delivery of a webhook id wins. */
    webhookDelivery: (system: string, deliveryId: string) =>
      `${p}webhook:${system}:${createHash('sha256').update(deliveryId).digest('hex').slice(0, 40)}`,
    /** SCAN pattern over one help desk's remembered deliveries (each holds its acceptance time, ms). */
    webhookDeliveries: (system: string) => `${p}webhook:${system}:*`,
    /** Sealed key text, until delivered, closed or expired. */
    keyText: (sid: string) => `${p}keytext:${sid}`,
    /** Set, with the key text's removal in one MULTI, once the SMTP server accepted the key. */
    delivered: (sid: string, channel: string) => `${p}delivered:${sid}:${channel}`,
    /** The per-session marker written before markers named their channel (it meant email). */
    legacyDelivered: (sid: string) => `${p}delivered:${sid}`,
    /** Set once the SMTP server accepted a notice; named by its identity (message-id.ts). */
    sentMail: (identityKey: string) => `${p}sent:${identityKey}`,
    /** Ids of the expiry jobs planned for a session, so a reschedule can remove them. */
    expiryJobs: (sid: string) => `${p}expiry-jobs:${sid}`,
    /** Consumer group on the audit stream that turns transitions into jobs. */
    reactionsGroup: 'pipeline-reactions',
  } as const;
}
