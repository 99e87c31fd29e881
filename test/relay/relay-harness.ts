// Test harness for the relay: an in-process RelayServer on 127.0.0.1:0 with real Redis under a
// random prefix, sessions minted with issueKey(), simulated appliances (ssh2 Client with the
// tunnel key) and engineers driven through the stock OpenSSH client.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import ssh2 from 'ssh2';
import { decodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import { loadOrCreateRelayHostKey, type RelayHostKey } from '../../shared/key/key-files.js';
import type { Product } from '../../shared/key/tether-key.schema.js';
import { createLogger } from '../../shared/logger.js';
import type { RelayMeter } from '../../shared/metrics.js';
import { issueKey } from '../../shared/session/issue-key.js';
import type { SessionRecord } from '../../shared/session/session.schema.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { loginSteps } from '../../appliance/tunnel/relay-dial.js';
import type { AuditEntry } from '../../shared/store/audit.store.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { RelayServer } from '../../relay/relay-server.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';
import { AccessStore, type EngineerPolicy } from '../../shared/store/access.store.js';
import { RelayFleetStore } from '../../shared/store/relay-fleet.store.js';
import { ed25519Pair } from '../helpers/ed25519-pair.js';

export interface Harness {
  redis: Redis;
  subscriber: Redis;
  prefix: string;
  sessions: RedisSessionStore;
  engineers: RedisEngineerDirectory;
  audit: RedisAuditLog;
  access: AccessStore;
  relay: RelayServer;
  port: number;
  hostKey: RelayHostKey;
  dir: string;
  /** Added to Date.now() for the relay's clock. */
  clock: { skewMs: number };
  close(): Promise<void>;
}

/** Relays of one fleet share a Redis prefix and a host-key dir; the caller removes both. */
export interface FleetShare {
  prefix: string;
  dir: string;
}

export async function startHarness(
  redisUrl: string,
  opts: {
    engineerPolicy?: EngineerPolicy;
    heartbeatFlushMs?: number;
    relayId?: string;
    metrics?: RelayMeter;
    fleet?: FleetShare;
    /** The session store as the relay sees it (the harness's own `sessions` stays the real one). */
    relaySessions?: (real: RedisSessionStore) => RedisSessionStore;
  } = {},
): Promise<Harness> {
  const prefix = opts.fleet?.prefix ?? randomPrefix();
  const dir = opts.fleet?.dir ?? mkdtempSync(join(tmpdir(), 'tether-relay-test-'));
  const redis = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  // Tests that stop Redis on purpose expect reconnect errors; the relay logs its own.
  for (const c of [redis, subscriber]) c.on('error', () => undefined);
  const sessions = new RedisSessionStore(redis, prefix);
  const engineers = new RedisEngineerDirectory(redis, prefix);
  const audit = new RedisAuditLog(redis, prefix);
  const hostKey = loadOrCreateRelayHostKey(dir);
  const clock = { skewMs: 0 };
  const access = new AccessStore(redis, prefix);
  const relay = new RelayServer({
    sessions: opts.relaySessions?.(sessions) ?? sessions,
    engineers,
    audit,
    access,
    // Most relay tests are about tunnels, not authorisation: engineer-policy.test.ts covers `assigned`.
    engineerPolicy: opts.engineerPolicy ?? 'all',
    subscriber,
    hostKey,
    listen: { host: '127.0.0.1', port: 0 },
    keepaliveMs: 15_000,
    heartbeatFlushMs: opts.heartbeatFlushMs ?? 200,
    relayId: opts.relayId ?? 'test-relay',
    now: () => Date.now() + clock.skewMs,
    logger: createLogger('relay-test', process.env.TETHER_TEST_LOG ?? 'silent'),
    metrics: opts.metrics,
    fleet: opts.fleet ? { store: new RelayFleetStore(redis, prefix), peerListen: { host: '127.0.0.1', port: 0 } } : undefined,
  });
  const port = await relay.start();
  return {
    redis,
    subscriber,
    prefix,
    sessions,
    engineers,
    audit,
    access,
    relay,
    port,
    hostKey,
    dir,
    clock,
    async close() {
      await relay.close();
      await relay.close(); // idempotent
      if (!opts.fleet) await deletePrefix(redis, prefix);
      subscriber.disconnect();
      redis.disconnect();
      if (!opts.fleet) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const signingPair = generateKeyPairSync('ed25519');
const signingKey = { kid: keyIdOf(signingPair.publicKey), privateKey: signingPair.privateKey, publicKey: signingPair.publicKey, publicPem: '' };

export interface Issued {
  session: SessionRecord;
  key: string;
  seed: Buffer;
}

export async function issue(h: Harness, serial: string, opts: { ports?: number[]; ttlMs?: number; product?: Product } = {}): Promise<Issued> {
  const { session, key } = await issueKey(
    { serial, product: opts.product ?? 'sma', ttlMs: opts.ttlMs ?? 3_600_000, ports: opts.ports, actor: 'test' },
    { sessions: h.sessions, signingKey, relay: { host: '127.0.0.1', port: h.port, fingerprint: h.hostKey.fingerprint }, now: () => Date.now() },
  );
  const cred = decodeKey(key).payload.cred;
  if (!cred) throw new Error('issued key carries no credential');
  return { session, key, seed: Buffer.from(cred, 'base64url') };
}

export function uniqueSerial(tag: string): string {
  return `SN-${tag}-${randomBytes(3).toString('hex').toUpperCase()}`;
}

/** A local TCP service: sends `banner` on connect, then echoes everything back. */
export async function startService(banner: string): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((s) => {
    count++;
    s.on('error', () => undefined);
    s.write(banner);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The real session store with `after` run once each call of `method` has returned, before the relay
 * gets the result (for the `relaySessions` option): a test holds the relay at that point.
 */
export function afterStoreCall<M extends 'activate' | 'close'>(real: RedisSessionStore, method: M, after: () => Promise<void>): RedisSessionStore {
  return new Proxy(real, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== method) return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await after();
        return result;
      };
    },
  });
}

export interface Appliance {
  client: ssh2.Client;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
  isClosed(): boolean;
  end(): void;
}

/** The key pair each simulated machine holds per key (as the agent makes one on enable). */
const machineKeys = new Map<string, Buffer>();
export function applianceSeedOf(keySeed: Buffer, machine = 'default'): Buffer {
  const id = `${machine}:${keySeed.toString('hex')}`;
  let seed = machineKeys.get(id);
  if (!seed) machineKeys.set(id, (seed = generateSeed()));
  return seed;
}

/**
 * Connects as the appliance the way the agent does (username = serial, relay host key pinned): the
 * machine's own key alone, then the key's credential followed by the machine's key (activation).
 * `machine` names another machine holding the same key; `banner` receives what the relay says;
 * `onClient` gets the client before it connects.
 */
export function connectAppliance(
  h: Harness,
  opts: { serial: string; seed: Buffer; username?: string; machine?: string; onBanner?: (text: string) => void; onClient?: (client: ssh2.Client) => void },
): Promise<Appliance> {
  const client = new ssh2.Client();
  opts.onClient?.(client);
  if (opts.onBanner) client.on('banner', opts.onBanner);
  const username = opts.username ?? opts.serial;
  const pinned = Buffer.from(h.hostKey.publicLine.split(/\s+/)[1] ?? '', 'base64');
  let closed = false;
  const closedP = new Promise<void>((resolve) => client.once('close', () => ((closed = true), resolve())));
  return new Promise((resolve, reject) => {
    client.on('error', (err) => reject(err));
    client.once('ready', () => resolve({ client, closed: closedP, isClosed: () => closed, end: () => client.end() }));
    client.connect({
      host: '127.0.0.1',
      port: h.port,
      username,
      authHandler: loginSteps(username, openSshPrivateKeyFromSeed(applianceSeedOf(opts.seed, opts.machine)), openSshPrivateKeyFromSeed(opts.seed)),
      hostVerifier: (key: Buffer) => key.equals(pinned),
      readyTimeout: 10_000,
    });
  });
}

/** Asks the relay to forward each appliance port and answers forwarded channels from `targets`. */
export async function forwardPorts(app: Appliance, targets: Record<number, number>): Promise<void> {
  app.client.on('tcp connection', (details, accept, reject) => {
    const target = targets[details.destPort];
    if (target === undefined) return reject();
    const sock = netConnect(target, '127.0.0.1');
    sock.on('error', () => reject());
    sock.once('connect', () => {
      const ch = accept();
      ch.on('error', () => undefined);
      ch.pipe(sock);
      sock.pipe(ch);
    });
  });
  for (const port of Object.keys(targets).map(Number)) {
    await new Promise<void>((resolve, reject) => app.client.forwardIn('localhost', port, (err) => (err ? reject(err) : resolve())));
  }
}

export interface EngineerKey {
  name: string;
  keyFile: string;
  knownHosts: string;
}

export async function addEngineer(h: Harness, name: string, register = true): Promise<EngineerKey> {
  const pair = ed25519Pair();
  const keyFile = join(h.dir, `id_${name}_${randomBytes(3).toString('hex')}`);
  writeFileSync(keyFile, pair.private, { mode: 0o600 });
  writeFileSync(`${keyFile}.pub`, `${pair.public}\n`);
  if (register) await h.engineers.addKey(name, parseEngineerKey(pair.public), 'test', Date.now());
  const knownHosts = `${keyFile}.known_hosts`;
  writeFileSync(knownHosts, `[127.0.0.1]:${h.port} ${h.hostKey.publicLine}\n`);
  return { name, keyFile, knownHosts };
}

export interface SshResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface SshRun {
  child: ReturnType<typeof spawn>;
  stdout(): Buffer;
  done: Promise<SshResult>;
}

/** Stock OpenSSH as the engineer. `extra` goes before the destination (e.g. ['-W', 'SN:22']). */
export function runSsh(h: Harness, eng: EngineerKey, extra: string[], trailing: string[] = []): SshRun {
  const args = [
    '-F', '/dev/null',
    '-o', `UserKnownHostsFile=${eng.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ConnectTimeout=10',
    '-i', eng.keyFile,
    '-p', String(h.port),
    ...extra,
    `${eng.name}@127.0.0.1`,
    ...trailing,
  ];
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: h.dir } });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => undefined);
  const done = new Promise<SshResult>((resolve) => child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err })));
  return { child, stdout: () => Buffer.concat(out), done };
}

/** `ssh -W target`: sends `input`, half-closes, and returns everything that came back. */
export async function sshW(h: Harness, eng: EngineerKey, target: string, input: Buffer): Promise<SshResult> {
  const run = runSsh(h, eng, ['-W', target]);
  run.child.stdin!.end(input);
  return run.done;
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function auditOf(h: Harness, type: string, match: Record<string, string> = {}): Promise<AuditEntry[]> {
  return (await h.audit.list()).filter((e) => e.type === type && Object.entries(match).every(([k, v]) => e.fields[k] === v));
}

/** Fails fast instead of hanging when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
