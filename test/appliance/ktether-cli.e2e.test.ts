// The compiled `ktether` as a child process against a throw-away relay: enable (familiar lines,
// files under KTETHER_HOME, a background daemon), traffic through the forward, status, reset,
// disable (forwards cancelled, everything removed, key used), and the refusals and crash paths.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSshPublicLine, rawPublicFromSeed } from '../../shared/ssh-keys.js';
import type { AgentPaths } from '../../appliance/agent-home.js';
import { isDaemonAlive, readPid, readTetherState } from '../../appliance/tether-state.js';
import { isKeyUsed } from '../../appliance/used-keys.js';
import { initApplianceHome } from './appliance-home.js';
import { testVendor, type TestVendor } from './appliance-keys.js';
import { expectFamiliarEnableLines } from './familiar-lines.js';
import { eventually, keyWithFreshRelay, roundTrip, startFakeRelay, type FakeRelay } from './fake-relay.js';
import { buildKtether, type KtetherBuild } from './ktether-build.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';

const SERIAL = 'K1000-E2E001';
let build: KtetherBuild;
let dir: string, paths: AgentPaths, vendor: TestVendor;
let relay: FakeRelay;
let echo: TcpService;
let key: ReturnType<TestVendor['key']>;

beforeAll(async () => {
  build = await buildKtether();
}, 120_000);
afterAll(() => build?.remove());

const ktether = (args: string[]) => build.run(args, { KTETHER_HOME: paths.home });

beforeEach(async () => {
  echo = await startEchoService();
  ({ dir, paths, vendor } = await initApplianceHome(build, { tag: 'ktether-e2e-', serial: SERIAL, version: '10.2', ports: [22, 443, 3306], target: echo.port }));
  ({ key, relay } = await keyWithFreshRelay(vendor, SERIAL));
});

afterEach(async () => {
  const pid = readPid(paths);
  if (pid !== undefined && isDaemonAlive(pid)) process.kill(pid, 'SIGKILL');
  await relay.close();
  echo.close();
  rmSync(dir, { recursive: true, force: true });
});

function accounts(): Record<string, { passwordHash: string }> {
  return existsSync(paths.accounts) ? JSON.parse(readFileSync(paths.accounts, 'utf8')) : {};
}

async function enable(extra: string[] = []) {
  const r = await ktether(['enable', '--key', key.text, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('ktether CLI (compiled, child process)', () => {
  it('enable brings the tunnel up, disable ends it and the key is then refused as used', async () => {
    const r = await enable();
    expectFamiliarEnableLines(r.stdout);
    expect(r.stderr).toBe('');

    // Files under KTETHER_HOME while the tether is up: the key's credential is spent and gone; the
    // tunnel key is the pair made on this appliance, the one the relay bound at activation.
    expect(readdirSync(paths.home).sort()).toEqual(['accounts.json', 'config.json', 'ktether.log', 'ktether.pid', 'state.json', 'tunnel_key', 'vendor.pub']);
    expect(statSync(paths.tunnelKey).mode & 0o777).toBe(0o600);
    const pub = execFileSync('ssh-keygen', ['-y', '-f', paths.tunnelKey]).toString().trim();
    expect(pub.split(' ').slice(0, 2).join(' ')).not.toBe(openSshPublicLine(rawPublicFromSeed(key.seed)));
    expect(pub.split(' ')[1]).toBe(relay.bound?.toString('base64'));
    const pid = readPid(paths)!;
    expect(isDaemonAlive(pid)).toBe(true);
    expect(readTetherState(paths)).toMatchObject({ state: 'connected', sessionId: key.payload.sid, serial: SERIAL, ports: [22, 443], pid, connections: 1 });
    expect(Object.keys(accounts())).toEqual(['kace_support']);
    const log = readFileSync(paths.logFile, 'utf8');
    for (const secret of [key.text.slice(4, 60), key.payload.cred!, 'Generated-Passw0rd-1']) expect(log).not.toContain(secret);

    expect(relay.forwards.map((f) => f.bindPort)).toEqual([22, 443]);
    expect(await roundTrip(relay, 22, 'ssh banner please')).toBe('ssh banner please');

    const status = await ktether(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ serial: SERIAL, product: 'sma', state: 'connected', daemon: 'running', sessionId: key.payload.sid, relay: `127.0.0.1:${relay.port}`, ports: [22, 443], pid });

    const d = await ktether(['disable']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/\[ktether\] Tether disabled\.\n$/);
    expect(relay.cancels.length).toBeGreaterThan(0);
    expect(isDaemonAlive(pid)).toBe(false);
    for (const gone of [paths.pidFile, paths.tunnelKey]) expect(existsSync(gone)).toBe(false);
    expect(accounts()).toEqual({});
    expect(readTetherState(paths)).toMatchObject({ state: 'closed', pid: null, lastError: null });
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);

    const again = await ktether(['enable', '--key', key.text]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('ktether: key already used\n');
  });

  it('reset reconnects with the same key; a SIGKILLed daemon is restarted with the unclean-shutdown line', async () => {
    await enable();
    const r = await ktether(['reset']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Starting\.\n.*Starting ssh\.\n\[tether\]\n$/);
    expect(relay.accepted).toBe(2);
    expect(readTetherState(paths)?.connections).toBe(2);

    process.kill(readPid(paths)!, 'SIGKILL');
    await eventually(() => !isDaemonAlive(readPid(paths)!), 5_000, 'daemon gone');
    expect(JSON.parse((await ktether(['status', '--json'])).stdout)).toMatchObject({ daemon: 'crashed', pid: null });
    const again = await ktether(['reset']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split('\n')[1]).toBe('tether pid file exists... unclean shutdown?');
    expect(again.stdout).toMatch(/\[tether\]\n$/);
    expect(isDaemonAlive(readPid(paths)!)).toBe(true);
    expect(Object.keys(accounts())).toEqual(['kace_support']);
    expect(await roundTrip(relay, 443, 'after restart')).toBe('after restart');
  });

  it('disable without a daemon connects once to cancel the forwards and cleans up', async () => {
    await enable();
    process.kill(readPid(paths)!, 'SIGKILL');
    await eventually(() => !isDaemonAlive(readPid(paths)!), 5_000, 'daemon gone');
    const d = await ktether(['disable']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('tether pid file exists... unclean shutdown?');
    expect(relay.cancels.length).toBeGreaterThan(0);
    expect(accounts()).toEqual({});
    expect(existsSync(paths.tunnelKey)).toBe(false);
    expect(existsSync(paths.pidFile)).toBe(false);
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);
  });

  it('a relay that rejects the credential ends enable with the reason and undoes everything', async () => {
    relay.rejectAuth = true;
    const r = await ktether(['enable', '--key', key.text]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ktether: refused by relay: the key is no longer valid (already used, revoked or expired)\n');
    expect(accounts()).toEqual({});
    expect(existsSync(paths.tunnelKey)).toBe(false);
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);
    await eventually(() => readPid(paths) === undefined, 5_000, 'pid file removed');
    expect(readTetherState(paths)).toMatchObject({ state: 'closed' });
  });

  it('a relay with another host key never sees the credential: enable refuses with the mismatch', async () => {
    const wrongFp = 'SHA256:' + Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '');
    key = vendor.key({ cred: key.seed.toString('base64url'), relay: { host: '127.0.0.1', port: relay.port, fp: wrongFp } });
    const r = await ktether(['enable', '--key', key.text]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ktether: relay host key does not match the key (expected ${wrongFp}, got ${relay.fingerprint})\n`);
    expect(relay.auths).toEqual([]);
    expect(accounts()).toEqual({});
    expect(existsSync(paths.tunnelKey)).toBe(false);
    expect(isKeyUsed(paths, key.payload.jti)).toBe(false); // never consumed: the relay never saw it
  });

  it('an unreachable relay fails enable after --timeout and leaves the key usable', async () => {
    const port = relay.port;
    await relay.close();
    key = vendor.key({ cred: key.seed.toString('base64url'), relay: { host: '127.0.0.1', port, fp: relay.fingerprint } });
    const r = await ktether(['enable', '--key', key.text, '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ktether: could not connect to the relay at 127\\.0\\.0\\.1:${port} within 1s: .*ECONNREFUSED.*\\n$`));
    expect(accounts()).toEqual({});
    expect(existsSync(paths.tunnelKey)).toBe(false);
    expect(isKeyUsed(paths, key.payload.jti)).toBe(false);
    relay = await startFakeRelay({ serial: SERIAL, tunnelSeed: key.seed }); // for afterEach
  });

  it('doctor checks one by one and names the first failing check', async () => {
    const ok = await ktether(['doctor', '--relay', `127.0.0.1:${relay.port}`]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok {4}serial present \(K1000-E2E001\)\nok {4}outbound TCP to the relay .*\nok {4}SSH enabled .*\nok {4}database access enabled .*\nall checks passed\n/);

    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as AddressInfo).port;
    closed.close();
    const config = JSON.parse(readFileSync(paths.config, 'utf8'));
    config.forwards['3306'] = { host: '127.0.0.1', port: deadPort };
    writeFileSync(paths.config, JSON.stringify(config));
    const db = await ktether(['doctor', '--relay', `127.0.0.1:${relay.port}`]);
    expect(db.code).toBe(1);
    expect(db.stderr).toMatch(/^ktether: doctor: database access enabled failed: 127\.0\.0\.1:\d+: connect ECONNREFUSED/);

    const noRelay = await ktether(['doctor']);
    expect(noRelay.code).toBe(1);
    expect(noRelay.stderr).toBe('ktether: doctor: outbound TCP to the relay failed: no relay known yet (no key enabled here): give --relay HOST:PORT\n');
  });

  it('init refuses a forward host over 255 characters as a usage error (exit 2) and writes nothing, not even vendor.pub', async () => {
    const before = { config: readFileSync(paths.config, 'utf8'), vendor: readFileSync(paths.vendorKey, 'utf8') };
    const other = testVendor({ serial: SERIAL, relay: { host: '127.0.0.1', port: 1, fp: 'SHA256:x' } });
    const otherDir = join(dir, 'other');
    mkdirSync(otherDir);
    const r = await ktether(['init', '--serial', SERIAL, '--product', 'sma', '--version', '10.2', '--vendor-key', other.writePublic(otherDir), '--forward', `22=${'h'.repeat(300)}:22`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ktether: invalid --forward "22=h+": expected PORT=HOST:PORT \(e\.g\. 22=127\.0\.0\.1:2222; a host of at most 255 characters\)\n$/);
    expect({ config: readFileSync(paths.config, 'utf8'), vendor: readFileSync(paths.vendorKey, 'utf8') }).toEqual(before);
  });

  it('disable works with a damaged config.json while the daemon runs: the daemon ends the tether (forwards cancelled, account and credential removed)', async () => {
    await enable();
    const pid = readPid(paths)!;
    writeFileSync(paths.config, '{"v": 1, "serial": broken');
    const d = await ktether(['disable']);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/\[ktether\] Stopping\.\n.*config\.json is invalid: run ktether init again before the next enable\n.*\[ktether\] Tether disabled\.\n$/);
    expect(isDaemonAlive(pid)).toBe(false);
    expect(relay.cancels.map((c) => c.bindPort).sort()).toEqual([22, 443]);
    expect(accounts()).toEqual({});
    expect(existsSync(paths.tunnelKey)).toBe(false);
    expect(readTetherState(paths)).toMatchObject({ state: 'closed', lastError: null });
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);
    // Without a daemon a damaged config is still refused with one line.
    const again = await ktether(['disable']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`ktether: ${paths.config} is not valid JSON\n`);
  });
});
