// Queue and job names of the ticket-driven pipeline, as constants. Every producer and worker uses
// these; nothing spells a queue name as a string literal elsewhere.

export const QUEUE = {
  ticketEvents: 'ticket-events',
  keyIssue: 'key-issue',
  keyDelivery: 'key-delivery',
  notifications: 'notifications',
  ticketSync: 'ticket-sync',
  expiry: 'expiry',
  tunnelMonitor: 'tunnel-monitor',
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUE);

/** One job name per kind of work; the map in job-schemas.ts ties each to its queue and payload. */
export const JOB = {
  ticketEvent: 'ticket-event',
  keyIssue: 'key-issue',
  keyDelivery: 'key-delivery',
  notification: 'notification',
  ticketComment: 'ticket-comment',
  expiry: 'expiry',
  monitorSweep: 'monitor-sweep',
} as const;

export type JobName = (typeof JOB)[keyof typeof JOB];
