// What buildApiServer hands each of its two surfaces, the operator API (operator-api.ts) and the
// appliance API (appliance-api.route.ts): each builds the stores it needs on the Redis client.
import type { Redis } from 'ioredis';
import type { Producers } from '../queues/producers.js';
import type { ServerConfig } from '../shared/config.js';
import type { SigningKey } from '../shared/key/key-files.js';
import type { KeyRelays } from '../shared/session/issue-key.js';
import type { SessionStore } from '../shared/store/session.store.js';

export interface SurfaceDeps {
  config: Readonly<ServerConfig>;
  redis: Redis;
  /** Not `prefix`: Fastify would take that as a route prefix. */
  redisPrefix: string;
  sessions: SessionStore;
  producers: Producers;
  now: () => number;
}

/** What minting a key needs: the signing key and the relay endpoint the key names. */
export interface MintingKeys {
  signingKey: SigningKey;
  relay: KeyRelays;
}
