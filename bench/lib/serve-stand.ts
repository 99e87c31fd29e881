// The stand of the appliance-to-engineer latency benchmarks (oneclick, appliance-service): a private
// Redis, a TETHER_HOME with its keys, `serve.js --roles api,workers,relay` with the generic help desk
// on a local sink, an echo server as the appliance's service, an engineer (alice) logged in to the
// relay to probe it, and a watch for session activations. Appliances are the benchmark's own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey, type RelayHostKey, type SigningKey } from '../../shared/key/key-files.js';
import { openRedis } from '../../shared/redis.js';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { parseSessionEvent } from '../../shared/store/session-events.js';
import { ed25519Pair } from '../../test/helpers/ed25519-pair.js';
import { startEchoServer } from './echo-server.js';
import { connectEngineer, type EngineerProbe } from './engineer-probe.js';
import { freePort, startRedisServer } from './redis-server.js';
import { startServe } from './serve-child.js';

export const STAND_ENGINEER = 'alice';

export interface ServeStandOptions {
  /** Names the temp dir, the Redis connection and the webhook secret. */
  name: string;
  /** Added to serve.js's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface ServeStand {
  home: string;
  prefix: string;
  redis: Redis;
  signingKey: SigningKey;
  hostKey: RelayHostKey;
  relayPort: number;
  apiUrl: string;
  /** The port to forward the appliance's service to. */
  echoPort: number;
  engineer: EngineerProbe;
  /** Resolves at the next `activated` session event of `serial` (call it before the action). */
  whenActivated(serial: string): Promise<void>;
  /** The last of serve.js's output, for error messages. */
  serverOutput(): string;
  close(): Promise<void>;
}

export async function startServeStand(opts: ServeStandOptions): Promise<ServeStand> {
  const home = mkdtempSync(join(tmpdir(), `tether-${opts.name}-`));
  const redisServer = await startRedisServer();
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const signingKey = loadOrCreateSigningKey(home);
  const hostKey = loadOrCreateRelayHostKey(home);
  const echo = await startEchoServer();
  // The generic help desk: tickets and comments land here and are answered 201.
  const helpDesk = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => helpDesk.listen(0, '127.0.0.1', () => r()));
  const helpDeskPort = (helpDesk.address() as AddressInfo).port;
  const [apiPort, relayPort] = [await freePort(), await freePort()];
  const redis = openRedis(redisServer.url, { name: opts.name });
  const activated = new Map<string, () => void>();
  const subscriber = redis.duplicate();
  subscriber.on('message', (_channel: string, raw: string) => {
    const ev = parseSessionEvent(raw);
    if (ev?.outcome === 'activated') activated.get(ev.serial.toUpperCase())?.();
  });
  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  let engineer: EngineerProbe | undefined;

  const close = async () => {
    engineer?.close();
    subscriber.disconnect();
    const child = server?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    }
    redis.disconnect();
    await redisServer.stop();
    await echo.close();
    await new Promise((r) => helpDesk.close(() => r(undefined)));
    rmSync(home, { recursive: true, force: true });
  };

  try {
    await subscriber.subscribe(redisKeys(prefix).events);
    server = await startServe({
      TETHER_HOME: home,
      REDIS_URL: redisServer.url,
      TETHER_REDIS_PREFIX: prefix,
      TETHER_API_PORT: String(apiPort),
      TETHER_RELAY_PORT: String(relayPort),
      TETHER_WEBHOOK_SECRET: `${opts.name}-secret-0123456789`,
      TETHER_TICKET_COMMENT_URL: `http://127.0.0.1:${helpDeskPort}/comments`,
      TETHER_HEARTBEAT_FLUSH_MS: '2000',
      TETHER_LOG_LEVEL: 'warn',
      ...opts.env,
    });
    const engKey = ed25519Pair(`${STAND_ENGINEER}@bench`);
    await new RedisEngineerDirectory(redis, prefix).addKey(STAND_ENGINEER, parseEngineerKey(engKey.public), 'bench', Date.now());
    engineer = await connectEngineer({ host: '127.0.0.1', port: relayPort, fp: hostKey.fingerprint }, STAND_ENGINEER, engKey.private);
  } catch (err) {
    await close();
    throw err;
  }
  const output = server.output;
  return {
    home,
    prefix,
    redis,
    signingKey,
    hostKey,
    relayPort,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    echoPort: echo.port,
    engineer,
    whenActivated: (serial) => new Promise<void>((r) => activated.set(serial.toUpperCase(), r)),
    serverOutput: output,
    close,
  };
}
