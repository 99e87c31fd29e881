// The compiled `ktether` CLI against a running `ktether service` (a throw-away ssh2 relay, real
// agent processes): the same lines and exit codes as without a service, the tunnel held by the
// service (no daemon spawned), every bad input refused with one line and nothing changed while the
// service keeps serving, and the control socket's own defences (0600, junk, huge frames, a stale
// socket, a second service).
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentPaths } from '../../appliance/agent-home.js';
import { isDaemonAlive, readPid, readTetherState } from '../../appliance/tether-state.js';
import { isKeyUsed } from '../../appliance/used-keys.js';
import { initApplianceHome } from '../appliance/appliance-home.js';
import type { TestVendor } from '../appliance/appliance-keys.js';
import { expectFamiliarEnableLines } from '../appliance/familiar-lines.js';
import { eventually, keyWithFreshRelay, roundTrip, type FakeRelay } from '../appliance/fake-relay.js';
import { buildKtether, type KtetherBuild } from '../appliance/ktether-build.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { fakeUserTools } from '../appliance/fake-user-tools.js';
import { startInProcessService } from './in-process-service.js';
import { openBrowser } from '../console/browser.js';
import { homeSnapshot, rawExchange, setPagePassword, shot, signIn, startService, type RunningService } from './service-harness.js';

const SERIAL = 'K1000-SVC001';
let build: KtetherBuild;
let dir: string, paths: AgentPaths, vendor: TestVendor;
let echo: TcpService;
let svc: RunningService | undefined;
const relays: FakeRelay[] = [];

beforeAll(async () => {
  build = await buildKtether();
  echo = await startEchoService();
}, 120_000);
afterAll(() => echo?.close());

const ktether = (args: string[]) => build.run(args, { KTETHER_HOME: paths.home });

beforeEach(async () => {
  ({ dir, paths, vendor } = await initApplianceHome(build, { tag: 'ktether-svc-', serial: SERIAL, version: '10.1', ports: [22, 443], target: echo.port }));
  svc = await startService(paths.home, { KTETHER_UI_LISTEN: 'off' });
});

afterEach(async () => {
  await svc?.stop('SIGKILL');
  svc = undefined;
  for (const r of relays.splice(0)) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

async function freshKey(over: Parameters<TestVendor['key']>[0] = {}) {
  const fresh = await keyWithFreshRelay(vendor, SERIAL, over);
  relays.push(fresh.relay);
  return fresh;
}

const snapshot = () => homeSnapshot(paths.home);

async function expectServing(): Promise<void> {
  const s = await ktether(['status', '--json']);
  expect(s.code, s.stderr).toBe(0);
  expect(JSON.parse(s.stdout).service.pid).toBe(svc!.proc.child.pid);
}

describe('ktether CLI with a service running', () => {
  it('enable prints the familiar three lines, the service holds the tunnel (no daemon), status says so, reset and disable work', async () => {
    const { key, relay } = await freshKey();
    const r = await ktether(['enable', '--key', key.text]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectFamiliarEnableLines(r.stdout);
    // The pid file names the service itself: no daemon process was started.
    expect(readPid(paths)).toBe(svc!.proc.child.pid);
    expect(readTetherState(paths)).toMatchObject({ state: 'connected', sessionId: key.payload.sid, ports: [22, 443], connections: 1 });
    expect(statSync(paths.tunnelKey).mode & 0o777).toBe(0o600);
    expect(existsSync(paths.activationKey)).toBe(false);
    expect(await roundTrip(relay, 22, 'through the service')).toBe('through the service');

    const status = await ktether(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^state: {6}connected$/m);
    expect(status.stdout).toMatch(new RegExp(`^service: {4}running \\(pid ${svc!.proc.child.pid}\\), tether connected$`, 'm'));
    const json = JSON.parse((await ktether(['status', '--json'])).stdout);
    expect(json).toMatchObject({ serial: SERIAL, state: 'connected', daemon: 'running', sessionId: key.payload.sid, service: { phase: 'running', tether: 'connected' } });
    expect(Object.keys(json.service.lastEnable)).toEqual(['apiMs', 'keyMs', 'accountMs', 'kexMs', 'loginMs', 'forwardsMs', 'escrowMs', 'totalMs', 'cpuMs']);

    const reset = await ktether(['reset']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/Starting\.\n.*Starting ssh\.\n\[tether\]\n$/);
    expect(readTetherState(paths)?.connections).toBe(2);
    expect(await roundTrip(relay, 443, 'after reset')).toBe('after reset');

    const d = await ktether(['disable']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/\[ktether\] Stopping\.\n.*\[ktether\] Tether disabled\.\n$/);
    expect(relay.cancels.length).toBeGreaterThan(0);
    for (const gone of [paths.pidFile, paths.tunnelKey]) expect(existsSync(gone)).toBe(false);
    expect(JSON.parse(readFileSync(paths.accounts, 'utf8'))).toEqual({});
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);
    const again = await ktether(['disable']);
    expect(again.stdout).toMatch(/No tether is enabled: nothing to disable\.\n$/);
    await expectServing();
  });

  it('refuses garbage, tampered, other-serial, expired and used keys, bad passwords and descriptions, and a second enable, with one line each; nothing changes and the service keeps serving', async () => {
    const { key: used } = await freshKey();
    expect((await ktether(['enable', '--key', used.text])).code).toBe(0);
    expect((await ktether(['disable'])).code).toBe(0);
    const now = Math.floor(Date.now() / 1000);
    const { key: good } = await freshKey();
    // Tampered: the payload asks for one more port, the signature is the original one.
    const [head, , sig] = good.text.split('.');
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...good.payload, ports: [22, 443, 3306] })).toString('base64url')}.${sig}`;
    const cases: [string, string[], number, RegExp][] = [
      ['garbage', ['--key', 'this is not a key'], 1, /^ktether: key is malformed: /],
      ['tampered', ['--key', tampered], 1, /^ktether: key signature is invalid: the key was altered or damaged$/],
      ['other serial', ['--key', (await freshKey({ serial: 'K1000-OTHER1' })).key.text], 1, /^ktether: key is for serial K1000-OTHER1, not this appliance \(K1000-SVC001\)$/],
      ['expired', ['--key', (await freshKey({ iat: now - 7200, exp: now - 3600 })).key.text], 1, /^ktether: key expired/],
      ['used', ['--key', used.text], 1, /^ktether: key already used$/],
      ['short password', ['--key', good.text, '--password', 'short'], 2, /^ktether: --password must have at least 8 characters and no line breaks$/],
      ['empty description', ['--description', '   '], 2, /^ktether: --description must say what is wrong/],
      ['10,000-character description', ['--description', 'x'.repeat(10_000)], 2, /^ktether: --description is longer than 4000 characters$/],
      ['no source', [], 2, /^ktether: give exactly one of --key KEY/],
      ['unknown option', ['--key', good.text, '--frobnicate'], 2, /^ktether: Unknown option '--frobnicate'/],
    ];
    for (const [what, args, code, reason] of cases) {
      const before = snapshot();
      const r = await ktether(['enable', ...args]);
      expect(r.code, what).toBe(code);
      expect(r.stdout, what).toBe('');
      expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
      expect(r.stderr.trimEnd(), what).toMatch(reason);
      expect(snapshot(), what).toEqual(before);
    }
    // 10.1 cannot one-click: refused locally with the key flow explained.
    const old = await ktether(['enable', '--description', 'inventory page is blank']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^ktether: one-click needs SMA 10\.2 or later .*ktether enable --key KEY\n$/);

    // A second enable while connected changes nothing of the live tether.
    expect((await ktether(['enable', '--key', good.text])).code).toBe(0);
    const live = snapshot();
    const { key: other } = await freshKey();
    const second = await ktether(['enable', '--key', other.text]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`ktether: a tether is already enabled (pid ${svc!.proc.child.pid}): run ktether disable or ktether reset first\n`);
    expect(snapshot()).toEqual(live);
    expect(readTetherState(paths)).toMatchObject({ state: 'connected', sessionId: good.payload.sid });
    await expectServing();
    expect((await ktether(['disable'])).code).toBe(0);
  });

  it('connects while the support account is made, but logs in only once it exists: a failed account leaves the key unused', async () => {
    const { key, relay } = await freshKey();
    writeFileSync(paths.accounts, '{"kace_support": "not an account"}');
    const r = await ktether(['enable', '--key', key.text]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[ktether\] Starting\.\n$/);
    expect(r.stderr).toBe(`ktether: ${paths.accounts} is invalid\n`);
    expect(relay.auths).toEqual([]); // the relay never saw a key
    expect(isKeyUsed(paths, key.payload.jti)).toBe(false);
    for (const gone of [paths.tunnelKey, paths.activationKey, paths.pidFile]) expect(existsSync(gone)).toBe(false);
    expect(readTetherState(paths)).toMatchObject({ state: 'closed', pid: null, lastError: `${paths.accounts} is invalid` });

    rmSync(paths.accounts);
    const again = await ktether(['enable', '--key', key.text]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(relay.accepted).toBe(1);
    expect((await ktether(['disable'])).code).toBe(0);
    await expectServing();
  });

  it('the control socket is 0600, answers junk with a one-line reason on the same connection, closes a connection after a huge frame, and keeps serving', async () => {
    expect(statSync(svc!.socket).mode & 0o777).toBe(0o600);
    expect(statSync(svc!.socket).isSocket()).toBe(true);

    const junk = await rawExchange(svc!.socket, 'hello there\n{"v":2,"id":7,"op":"status"}\n{"v":1,"id":8,"op":"format-disk"}\n{"v":1,"id":9,"op":"status"}\n');
    expect(junk.closed).toBe(false);
    expect(junk.lines).toHaveLength(4);
    expect(junk.lines[0]).toEqual({ v: 1, id: null, ok: false, error: { code: 'usage', message: 'invalid request: not JSON (one JSON object per line)' } });
    expect(junk.lines[1]).toEqual({ v: 1, id: 7, ok: false, error: { code: 'usage', message: 'unsupported protocol version 2: this service speaks 1' } });
    expect(junk.lines[2]).toMatchObject({ v: 1, id: 8, ok: false, error: { code: 'usage', message: expect.stringMatching(/^invalid request: op: /) } });
    // The same connection still answers a real request after the junk.
    expect(junk.lines[3]).toMatchObject({ v: 1, id: 9, ok: true, result: { serial: SERIAL, service: { phase: 'idle' } } });

    const huge = await rawExchange(svc!.socket, Buffer.alloc(1024 * 1024, 0x41), 5_000);
    expect(huge.closed).toBe(true);
    expect(huge.lines).toEqual([{ v: 1, id: null, ok: false, error: { code: 'usage', message: 'frame too large: a request line may hold at most 65536 bytes' } }]);
    await expectServing();
    expect(readFileSync(paths.logFile, 'utf8')).toMatch(/control socket: refused a frame over 65536 bytes and closed that connection/);
  });

  it('a stale socket from a dead service: the CLI works without it, the next service replaces it; a second service and a non-socket file are refused', async () => {
    const second = await build.run(['service'], { KTETHER_HOME: paths.home, KTETHER_UI_LISTEN: 'off' });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`ktether: a ktether service is already running (it answers on ${svc!.socket})\n`);

    await svc!.stop('SIGKILL');
    expect(statSync(svc!.socket).isSocket()).toBe(true); // left behind by the dead service
    const status = await ktether(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toMatch(/^service:/m); // answered the old way
    const disable = await ktether(['disable']);
    expect(disable.stdout).toMatch(/No tether is enabled: nothing to disable\.\n$/);

    svc = await startService(paths.home, { KTETHER_UI_LISTEN: 'off' });
    expect(svc.proc.output()).toMatch(/replaced a stale control socket left by a service that is gone/);
    await expectServing();

    await svc.stop();
    expect(existsSync(svc.socket)).toBe(false); // a clean stop removes it
    writeFileSync(svc.socket, 'not a socket');
    const refused = await build.run(['service'], { KTETHER_HOME: paths.home, KTETHER_UI_LISTEN: 'off' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`ktether: ${svc.socket} exists and is not a socket: remove it, then start the service again\n`);
    rmSync(svc.socket);
    svc = undefined;
  });

  it('SIGKILL of the service: the next start says the familiar unclean-shutdown line and re-establishes the tether from its saved state', async () => {
    const { key, relay } = await freshKey();
    expect((await ktether(['enable', '--key', key.text])).code).toBe(0);
    const killedPid = svc!.proc.child.pid!;
    await svc!.stop('SIGKILL');
    expect(isDaemonAlive(killedPid)).toBe(false);
    expect(readPid(paths)).toBe(killedPid); // stale pid file, state still live

    svc = await startService(paths.home, { KTETHER_UI_LISTEN: 'off' });
    expect(svc.proc.output()).toContain('tether pid file exists... unclean shutdown?\n');
    await eventually(() => readTetherState(paths)?.state === 'connected' && readTetherState(paths)!.connections === 2, 10_000, 'reconnected');
    expect(readPid(paths)).toBe(svc.proc.child.pid);
    expect(relay.accepted).toBe(2); // the bound appliance key alone, no credential
    expect(await roundTrip(relay, 443, 'resumed')).toBe('resumed');
    expect(readFileSync(paths.logFile, 'utf8')).toMatch(/resuming the tether of session \S+ from its saved state/);

    // A clean stop leaves it to resume as well; only disable ends it.
    await svc.stop();
    expect(readTetherState(paths)).toMatchObject({ state: 'connecting', pid: null });
    expect(existsSync(paths.tunnelKey)).toBe(true);
    svc = await startService(paths.home, { KTETHER_UI_LISTEN: 'off' });
    expect(svc.proc.output()).not.toContain('unclean shutdown');
    await eventually(() => readTetherState(paths)?.connections === 3, 10_000, 'reconnected again');
    expect((await ktether(['disable'])).code).toBe(0);
    expect(isKeyUsed(paths, key.payload.jti)).toBe(true);
  });
});

describe('ktether CLI with a service running the linux account provider (injected user tools)', () => {
  it('a disable whose userdel fails (kace_support logged in) says so: exit 1, one line, the page and state.json tell it, and the account is locked', async () => {
    await svc!.stop();
    svc = undefined;
    const init = await ktether(['init', '--serial', SERIAL, '--product', 'sma', '--version', '10.1', '--vendor-key', vendor.writePublic(dir), '--forward', `22=127.0.0.1:${echo.port}`, '--forward', `443=127.0.0.1:${echo.port}`, '--accounts', 'linux']);
    expect(init.code, init.stderr).toBe(0);
    expect((await setPagePassword(paths.home)).code).toBe(0);
    const tools = fakeUserTools();
    const inproc = await startInProcessService(paths, { runner: tools.run, page: true });
    try {
      const { key, relay } = await freshKey();
      expect((await ktether(['enable', '--key', key.text])).code).toBe(0);
      expect(tools.users.get('kace_support')).toMatchObject({ shell: '/bin/bash', expired: false });

      tools.userdelRefuses = true;
      const d = await ktether(['disable']);
      const reason = 'tether stopped, but kace_support could not be removed: cannot remove kace_support: userdel: user kace_support is currently used by process 4242; it is locked (no password, expired, no shell)';
      expect(d.stderr).toBe(`ktether: ${reason}\n`);
      expect(d.code).toBe(1);
      expect(d.stdout).toMatch(/\[ktether\] Stopping\.\n$/);
      expect(relay.cancels.length).toBeGreaterThan(0); // the relay closed the session all the same
      expect(readTetherState(paths)).toMatchObject({ state: 'closed', pid: null, lastError: reason });
      const locked = tools.users.get('kace_support')!;
      expect(locked).toMatchObject({ shell: '/usr/sbin/nologin', expired: true });
      expect(locked.password.startsWith('!')).toBe(true);
      expect(tools.lines.slice(-4)).toEqual(['usermod -L -e 1 -s /usr/sbin/nologin kace_support', 'pkill -KILL -u kace_support', 'userdel -r kace_support', 'id -u kace_support']);
      const status = JSON.parse((await ktether(['status', '--json'])).stdout);
      expect(status.service).toMatchObject({ phase: 'idle', tether: 'disabled' });

      // The page: a second tether (the left-over account is unlocked for it), disabled with Disable Tether.
      const { key: second } = await freshKey();
      expect((await ktether(['enable', '--key', second.text])).code).toBe(0);
      expect(tools.users.get('kace_support')).toMatchObject({ shell: '/bin/bash', expired: false });
      const b = await openBrowser(inproc.pageUrl!);
      try {
        const { page } = b;
        await page.goto(inproc.pageUrl!);
        await signIn(page);
        await page.locator('#tether-status[data-state="connected"]').waitFor();
        await page.locator('#disable').click();
        await page.locator('#tether-status[data-state="disabled"]').waitFor();
        // What the customer reads instead of "…and kace_support is removed".
        expect(await page.locator('#flash').textContent()).toBe(`T${reason.slice(1)}`);
        await shot(page, 'disable-account-not-removed');
        expect(b.problems).toEqual([]);
      } finally {
        await b.close();
      }

      // Once userdel works again, a disable removes what was left.
      tools.userdelRefuses = false;
      const again = await ktether(['disable']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/No tether is enabled: nothing to disable\.\n$/);
      expect(tools.users.has('kace_support')).toBe(false);
    } finally {
      await inproc.close();
    }
  });

  it('a disable that arrives while the enable is making kace_support leaves no account behind, and the key unused', async () => {
    await svc!.stop();
    svc = undefined;
    const init = await ktether(['init', '--serial', SERIAL, '--product', 'sma', '--version', '10.1', '--vendor-key', vendor.writePublic(dir), '--forward', `22=127.0.0.1:${echo.port}`, '--accounts', 'linux']);
    expect(init.code, init.stderr).toBe(0);
    const tools = fakeUserTools();
    let release!: () => void;
    tools.chpasswdWaits = new Promise<void>((resolve) => (release = resolve));
    const inproc = await startInProcessService(paths, { runner: tools.run });
    try {
      const { key, relay } = await freshKey();
      const enabling = ktether(['enable', '--key', key.text]);
      await eventually(() => tools.lines.includes('chpasswd'), 10_000, 'the account being made');
      const disabling = ktether(['disable']);
      await eventually(() => /ktether disable requested on the control socket/.test(readFileSync(paths.logFile, 'utf8')), 10_000, 'the disable arrived');
      release();
      const [e, d] = await Promise.all([enabling, disabling]);
      expect(e.code).toBe(1);
      expect(e.stderr).toBe('ktether: the tether was disabled before it came up\n');
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toMatch(/\[ktether\] Tether disabled\.\n$/);
      expect(tools.users.has('kace_support')).toBe(false);
      expect(relay.accepted).toBe(0); // never logged in: the key stays usable
      expect(isKeyUsed(paths, key.payload.jti)).toBe(false);
      for (const gone of [paths.tunnelKey, paths.activationKey, paths.pidFile]) expect(existsSync(gone)).toBe(false);
      expect(readTetherState(paths)).toMatchObject({ state: 'closed' });
    } finally {
      release();
      await inproc.close();
    }
  });
});
