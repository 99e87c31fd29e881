// The one map from job name to queue and zod payload schema. Producers parse before `add`,
// workers parse `job.data` first (Redis data is untrusted and may be from an older version).
// Payloads carry a version field and no secrets: a session id, never key text.
import { z } from 'zod';
import { mailAddressSchema } from '../shared/mail/mail-address.js';
import { productSchema, portSchema, serialSchema } from '../shared/key/tether-key.schema.js';
import { ticketRefSchema } from '../shared/session/session.schema.js';
import { JOB, QUEUE, type JobName, type QueueName } from './queue-names.js';
import { ticketEventSchema } from './ticket-event.schema.js';

const v1 = z.literal(1);
const sid = z.string().min(8).max(64);
const email = mailAddressSchema;

export const ticketEventJobSchema = z.object({ v: v1, event: ticketEventSchema });

export const keyIssueJobSchema = z.object({
  v: v1,
  serial: serialSchema,
  product: productSchema,
  version: z.string().max(32).optional(),
  ttlMs: z.number().int().positive(),
  ports: z.array(portSchema).max(16).optional(),
  ticket: ticketRefSchema.optional(),
  /** The ticket's subject, recorded on the session for the console (untrusted text). */
  ticketSubject: z.string().max(1_000).optional(),
  /** Where the key goes; recorded on the session as its requester address. */
  email: email.optional(),
  passwordMode: z.enum(['generated', 'customer']).optional(),
  actor: z.string().min(1).max(200),
});

export const DELIVERY_CHANNELS = ['email'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];
export const keyDeliveryJobSchema = z.object({ v: v1, sid, channel: z.enum(DELIVERY_CHANNELS) });

const recipients = z.array(email).min(1).max(20);
export const notificationJobSchema = z.discriminatedUnion('template', [
  z.object({ v: v1, template: z.literal('key_sent'), to: recipients, sid }),
  z.object({ v: v1, template: z.literal('connected'), to: recipients, sid }),
  z.object({
    v: v1,
    template: z.literal('expiring_soon'),
    to: recipients,
    sid,
    expiresAt: z.number().int(),
    /** Which warning (how long before expiry); part of the Message-ID. Absent in older jobs. */
    offsetMs: z.number().int().nonnegative().optional(),
  }),
  z.object({ v: v1, template: z.literal('closed'), to: recipients, sid }),
  z.object({
    v: v1,
    template: z.literal('job_failed'),
    to: recipients,
    queue: z.string().max(64),
    jobId: z.string().max(300),
    jobName: z.string().max(64),
    attempts: z.number().int().nonnegative(),
    /** When it failed for good (ms): tells one failure of a job id from the next. */
    failedAt: z.number().int().nonnegative().optional(),
    /** One secret-free line (describeError). */
    error: z.string().max(500),
  }),
]);
export type NotificationTemplate = z.infer<typeof notificationJobSchema>['template'];

export const ticketCommentJobSchema = z.object({
  v: v1,
  ticket: ticketRefSchema,
  sid: sid.optional(),
  comment: z.object({ body: z.string().min(1).max(10_000), internal: z.boolean() }),
});

export const EXPIRY_KINDS = ['warn', 'expire'] as const;
export const expiryJobSchema = z.object({
  v: v1,
  sid,
  kind: z.enum(EXPIRY_KINDS),
  /** The session's expiry this job was planned for; a job for an older expiry does nothing. */
  expiresAt: z.number().int(),
  /** For warnings: how long before expiry. */
  offsetMs: z.number().int().nonnegative().optional(),
});

export const monitorSweepJobSchema = z.object({ v: v1 });

export const JOBS = {
  [JOB.ticketEvent]: { queue: QUEUE.ticketEvents, schema: ticketEventJobSchema },
  [JOB.keyIssue]: { queue: QUEUE.keyIssue, schema: keyIssueJobSchema },
  [JOB.keyDelivery]: { queue: QUEUE.keyDelivery, schema: keyDeliveryJobSchema },
  [JOB.notification]: { queue: QUEUE.notifications, schema: notificationJobSchema },
  [JOB.ticketComment]: { queue: QUEUE.ticketSync, schema: ticketCommentJobSchema },
  [JOB.expiry]: { queue: QUEUE.expiry, schema: expiryJobSchema },
  [JOB.monitorSweep]: { queue: QUEUE.tunnelMonitor, schema: monitorSweepJobSchema },
} as const satisfies Record<JobName, { queue: QueueName; schema: z.ZodType }>;

export type JobData<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
/** What a producer accepts: the payload without the version field, which it stamps. */
export type JobInput<N extends JobName> = JobData<N> extends infer D ? (D extends { v: 1 } ? Omit<D, 'v'> : never) : never;

