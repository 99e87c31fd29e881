// Every Redis key and channel name the orchestrator uses, in one place, under a prefix
// (TETHER_REDIS_PREFIX; tests use a random one each).

export type RedisKeys = ReturnType<typeof redisKeys>;

export function redisKeys(prefix: string) {
  return {
    session: (id: string) => `${prefix}session:${id}`,
    /** Newest live session of a serial (upper-cased). */
    serial: (serial: string) => `${prefix}serial:${serial.toUpperCase()}`,
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
