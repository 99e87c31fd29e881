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
    /** Pub/sub: session transitions (JSON SessionEventMessage). */
    events: `${prefix}events`,
    /** Pub/sub: engineers or engineer keys removed (JSON EngineerRevocation); relays end their connections. */
    engineerEvents: `${prefix}engineer-events`,
  } as const;
}
