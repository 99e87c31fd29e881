// Every Redis key and channel name the orchestrator uses, in one place, under a prefix
// (TETHER_REDIS_PREFIX; tests use a random one each): sessions, audit, engineers, operators, the
// console, the relay fleet, password custody, enrolled appliances, the pipeline beside the queues
// and BullMQ's own keys. Nothing else spells a key; the stores and queues call these builders.
import { createHash } from 'node:crypto';

export type RedisKeys = ReturnType<typeof redisKeys>;

export function redisKeys(prefix: string) {
  return {
    session: (id: string) => `${prefix}session:${id}`,
    /** Newest live session of a serial (upper-cased). */
    serial: (serial: string) => `${prefix}serial:${serial.toUpperCase()}`,
    /** Ids of a ticket's live sessions (set; written at issue, each removed by its close). */
    ticketSessions: (system: string, id: string) => `${prefix}ticket-sessions:${system}:${id}`,
    /** Session id by tunnel-credential fingerprint: how the relay finds an appliance's session. */
    credential: (fingerprint: string) => `${prefix}cred:${fingerprint}`,
    /** All sessions by issue time (ms). */
    sessions: `${prefix}sessions`,
    /** Live sessions by last heartbeat (ms): the monitor reads stale ones by score range. */
    lastSeen: `${prefix}lastseen`,
    audit: `${prefix}audit`,
    engineers: `${prefix}engineers`,
    /** Engineers explicitly granted a session: engineer → JSON {by, at}. */
    grants: (sid: string) => `${prefix}grants:${sid}`,
    /** The engineer a help-desk ticket is assigned to (mapped from the help desk's assignee). */
    ticketAssignee: (system: string, id: string) => `${prefix}ticket-assignee:${system}:${id}`,
    /** Help desk identity (`system:email-or-login`, lower-cased) → engineer name. */
    engineerIdentities: `${prefix}engineer-identities`,
    /** Operators: name → JSON record (role, SHA-256 of the token). */
    operators: `${prefix}operators`,
    /** Operator name by hex SHA-256 of the personal token. */
    operatorToken: (tokenHash: string) => `${prefix}operator:token:${tokenHash}`,
    /** Console sign-ins by hex SHA-256 of the cookie value (12 h sliding TTL). */
    consoleSession: (idHash: string) => `${prefix}console:session:${idHash}`,
    /** @fastify/rate-limit counters of console sign-in, per client address. */
    signInRate: `${prefix}console:sign-in-rate:`,
    /** Console SSO sign-ins under way, by hex SHA-256 of their `state` (10 minutes, used once). */
    ssoFlow: (stateHash: string) => `${prefix}console:sso:${stateHash}`,
    /** @fastify/rate-limit counters of console SSO starts, per client address. */
    ssoStartRate: `${prefix}console:sso-start-rate:`,
    /** A relay's registration (JSON RelayRegistration), expiring unless the relay renews it. */
    relay: (id: string) => `${prefix}relay:${id}`,
    /** Relay ids by last renewal (ms): the fleet's member list, pruned of expired registrations. */
    relays: `${prefix}relays`,
    /** A draining relay's note that a session's tunnel moves on purpose (value: that relay's id). */
    moving: (sid: string) => `${prefix}moving:${sid}`,
    /** Pub/sub: session transitions (JSON SessionEventMessage). */
    events: `${prefix}events`,
    /** Pub/sub: engineers or engineer keys removed (JSON EngineerRevocation); relays end their connections. */
    engineerEvents: `${prefix}engineer-events`,
  } as const;
}

/** The one key holding a session's support password in custody (sealed at rest, or escrowed as received). */
export function custodyRedisKey(prefix: string, sid: string): string {
  return `${prefix}custody:pw:${sid}`;
}

export type ApplianceKeys = ReturnType<typeof applianceKeys>;

/** Enrolled appliances: records, enrolment tokens, request nonces, inboxes, open one-click tickets. */
export function applianceKeys(prefix: string) {
  const p = `${prefix}appliance:`;
  return {
    record: (serial: string) => `${p}rec:${serial.toUpperCase()}`,
    /** Serials by enrolment time. */
    index: `${p}index`,
    /** Only the token's SHA-256 is stored: a Redis dump does not hand out enrolments. */
    token: (token: string) => `${p}token:${createHash('sha256').update(token).digest('hex')}`,
    nonce: (serial: string, nonce: string) => `${p}nonce:${serial.toUpperCase()}:${nonce}`,
    inbox: (serial: string) => `${p}inbox:${serial.toUpperCase()}`,
    openTicket: (serial: string) => `${p}ticket:${serial.toUpperCase()}`,
  } as const;
}

export type PipelineKeys = ReturnType<typeof pipelineKeys>;

/**
 * Keys the pipeline owns beside the queues: webhook delivery dedupe, the sealed key text waiting for
 * delivery, delivery markers, records of sent notices, closed-ticket markers and the serials of a
 * ticket's key-issue jobs, the index of a session's planned expiry jobs,
 * comment bursts per ticket, and the audit consumer group.
 */
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
    /** The session id a key-issue job chose before minting (written first): what it may replace. */
    minting: (jobId: string) => `${p}minting:${jobId}`,
    /** Set, with the key text's removal in one MULTI, once the SMTP server accepted the key. */
    delivered: (sid: string, channel: string) => `${p}delivered:${sid}:${channel}`,
    /** The per-session marker written before markers named their channel (it meant email). */
    legacyDelivered: (sid: string) => `${p}delivered:${sid}`,
    /** Set once the SMTP server accepted a notice; named by its identity (message-id.ts). */
    sentMail: (identityKey: string) => `${p}sent:${identityKey}`,
    /** Set by a ticket's close (a week, as long as finished jobs): a create arriving later is stale, a key-issue job mints nothing. */
    ticketClosed: (system: string, id: string) => `${p}ticket-closed:${system}:${id}`,
    /** Serials a ticket's key-issue jobs were queued for (a week): a close cancels the pending ones of each. */
    ticketKeySerials: (system: string, id: string) => `${p}ticket-key-serials:${system}:${id}`,
    /** Ids of the expiry jobs planned for a session, so a reschedule can remove them. */
    expiryJobs: (sid: string) => `${p}expiry-jobs:${sid}`,
    /** One ticket's comment burst (`burstId`: a hash of ticket and visibility, comment-burst.ts). */
    commentBurst: (burstId: string) => {
      const base = `${p}comment-burst:${burstId}`;
      return { items: `${base}:items`, seq: `${base}:seq`, taken: `${base}:taken`, claim: (jobId: string) => `${base}:claim:${jobId}` };
    },
    /** Consumer group on the audit stream that turns transitions into jobs. */
    reactionsGroup: 'pipeline-reactions',
  } as const;
}

/**
 * BullMQ key prefix under the orchestrator's Redis prefix, so one prefix (TETHER_REDIS_PREFIX, or
 * a random one per test) covers every key. BullMQ joins prefix and queue name with ':'.
 */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}bull`;
}
