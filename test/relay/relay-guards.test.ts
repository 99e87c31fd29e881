// The relay's start-up guard and its one touch of ssh2 internals, in isolation.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Connection } from 'ssh2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAppError } from '../../shared/errors.js';
import { assertCryptoBinding, ssh2CryptoBindingLoaded } from '../../relay/crypto-check.js';
import { rejectWithReason } from '../../relay/ssh2-internals.js';
import { RelayServer } from '../../relay/relay-server.js';
import { startHarness, type Harness } from './relay-harness.js';
import { AccessStore } from '../../shared/store/access.store.js';

describe('crypto binding guard', () => {
  it("finds ssh2's native crypto binding in this install", () => {
    expect(ssh2CryptoBindingLoaded()).toBe(true);
    expect(() => assertCryptoBinding()).not.toThrow();
  });

  it('refuses to start without it, with code crypto_binding_missing', () => {
    let caught: unknown;
    try {
      assertCryptoBinding(() => false);
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'crypto_binding_missing')).toBe(true);
    expect((caught as Error).message).toMatch(/npm rebuild ssh2/);
  });
});

describe('channel refusal reason text', () => {
  it('still refuses, without the text, when ssh2 internals are absent', () => {
    let rejected = 0;
    rejectWithReason({} as Connection, () => rejected++, 'why');
    expect(rejected).toBe(1);
  });
});

describe('relay lifecycle shape', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject('redisUrl'));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('binds an ephemeral port, refuses a second start, and closes idempotently', async () => {
    expect(h.port).toBeGreaterThan(0);
    const subscriber = new Redis(inject('redisUrl'));
    await expect(h.relay.start()).rejects.toMatchObject({ code: 'internal' });
    const spare = new RelayServer({
      sessions: h.sessions,
      engineers: h.engineers,
      access: new AccessStore(h.redis, h.prefix),
      engineerPolicy: 'all',
      audit: h.audit,
      subscriber,
      hostKey: h.hostKey,
      listen: { host: '127.0.0.1', port: h.port }, // taken
      keepaliveMs: 15_000,
      heartbeatFlushMs: 1000,
      relayId: `spare-${randomBytes(2).toString('hex')}`,
      now: Date.now,
      logger: (await import('../../shared/logger.js')).createLogger('spare', 'silent'),
    });
    await expect(spare.start()).rejects.toMatchObject({ code: 'internal' });
    expect(await subscriber.pubsub('NUMSUB', h.sessions.keys.events)).toEqual([h.sessions.keys.events, 1]); // only h.relay's
    await spare.close();
    await spare.close();
    subscriber.disconnect();
  });
});
