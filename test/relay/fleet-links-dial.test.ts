// A peer link that the peer closes during its login (its Redis answered the login's lookup with an
// error: a restart's LOADING, a failover's READONLY): ssh2's client then says neither ready nor
// error, only close. The crossing must be refused at once and the next one must dial again. (The
// dial used to wait forever, and every later crossing to that relay waited on the same promise.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplianceRegistry } from '../../relay/appliance-registry.js';
import { PeerLinks } from '../../relay/fleet-links.js';
import { PeerServer } from '../../relay/fleet-peer-server.js';
import { RELAY_CIPHERS } from '../../relay/relay-server.js';
import { loadOrCreateRelayHostKey } from '../../shared/key/key-files.js';
import { createLogger } from '../../shared/logger.js';
import { generateSeed, openSshPrivateKeyFromSeed, rawPublicFromSeed } from '../../shared/ssh-keys.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { within } from './relay-harness.js';

const logger = createLogger('fleet-links-dial', 'silent');
const prefix = randomPrefix();
const dir = mkdtempSync(join(tmpdir(), 'tether-peer-dial-'));
let redis: Redis;
let store: RelayFleetStore;
let peers: PeerServer;
let links: PeerLinks;
/** How many of relay A's next registration lookups fail as a loading Redis would. */
let failLookups = 0;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  store = new RelayFleetStore(redis, prefix);
  const failing = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'get') return typeof value === 'function' ? value.bind(target) : value;
      return async (id: string) => {
        if (failLookups > 0) {
          failLookups -= 1;
          throw new Error('LOADING Redis is loading the dataset in memory');
        }
        return target.get(id);
      };
    },
  });
  const hostKey = loadOrCreateRelayHostKey(dir);
  peers = new PeerServer({
    store: failing,
    registry: new ApplianceRegistry(),
    relayId: 'relay-a',
    hostKey,
    listen: { host: '127.0.0.1', port: 0 },
    ciphers: RELAY_CIPHERS,
    keepaliveMs: 60_000,
    channel: { audit: new RedisAuditLog(redis, prefix), bytes: { toAppliance: 0, fromAppliance: 0 }, now: Date.now, logger },
    now: Date.now,
    logger,
  });
  const peerPort = await peers.start();
  const seedB = generateSeed();
  const now = Date.now();
  const common = { state: 'serving' as const, tunnels: 0, channels: 0, startedAt: now, renewedAt: now };
  await store.renew({ id: 'relay-a', peer: { host: '127.0.0.1', port: peerPort }, hostKeyFp: hostKey.fingerprint, fleetKey: rawPublicFromSeed(generateSeed()).toString('base64'), ...common }, 60_000);
  await store.renew({ id: 'relay-b', peer: { host: '127.0.0.1', port: 1 }, hostKeyFp: hostKey.fingerprint, fleetKey: rawPublicFromSeed(seedB).toString('base64'), ...common }, 60_000);
  links = new PeerLinks({ store, relayId: 'relay-b', fleetPrivateKey: openSshPrivateKeyFromSeed(seedB), ciphers: RELAY_CIPHERS, keepaliveMs: 60_000, readyTimeoutMs: 5_000, logger });
});

afterAll(async () => {
  links?.close();
  await peers?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('a peer link closed by the peer during its login', () => {
  it('refuses that crossing at once, and the next one dials a new link', async () => {
    const target = { sid: 'sid-not-held-here', serial: 'KDIAL1', port: 22 };
    failLookups = 1;
    await expect(within(links.open('relay-a', target), 2_000, 'the first crossing answered')).rejects.toThrow(/relay relay-a closed the link during its login/);
    expect(links.size).toBe(0);
    // The peer's store answers now: the link comes up, and relay A refuses the channel for its own reason.
    await expect(within(links.open('relay-a', target), 2_000, 'the second crossing answered')).rejects.toThrow(/tunnel|tether|not held|appliance/i);
    expect(links.size).toBe(1);
  });
});
