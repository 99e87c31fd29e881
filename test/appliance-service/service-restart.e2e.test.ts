// The resident service against the real relay (server process, Redis) with stock OpenSSH as the
// engineer: SIGKILL of the service and the tether re-established from its saved state (the relay
// records a reconnect of the same session); a tether enabled before the service existed (by the
// CLI's daemon) taken over at service start without ending it; disable through the service; a
// service killed during a disable finishes it at the next start instead of reconnecting.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../../appliance/agent-home.js';
import { isDaemonAlive, readPid, readTetherState, updateTetherState } from '../../appliance/tether-state.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { useApplianceSshd, useEchoService, useTetherSystem } from '../helpers/system-fixtures.js';
import { simulatedAppliance } from '../helpers/tether-system.js';
import { startService, type RunningService } from './service-harness.js';

const web = useEchoService();
const sshd = useApplianceSshd();
const system = useTetherSystem();
const services: RunningService[] = [];

afterAll(async () => {
  for (const s of services) await s.stop('SIGKILL');
});

async function issue(serial: string): Promise<{ key: string; sid: string }> {
  const r = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const { id, key } = JSON.parse(r.stdout) as { id: string; key: string };
  return { key, sid: id };
}

const reconnects = async (sid: string) => (await system.audit.list()).filter((e) => e.type === 'session.reconnected' && e.fields.sid === sid).length;

async function reaches443(serial: string, text: string): Promise<string> {
  return (await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], text)).stdout.toString();
}

async function service(home: string): Promise<RunningService> {
  const s = await startService(home, { KTETHER_UI_LISTEN: 'off' });
  services.push(s);
  return s;
}

/** An appliance whose service held a tether and was killed after a disable began: what that leaves on disk. */
async function killedWhileDisabling(serial: string) {
  const box = await simulatedAppliance(system, { serial, forwards: { 22: sshd.port, 443: web.port } });
  const paths = agentPaths(box.home);
  const first = await service(box.home);
  const { key, sid } = await issue(serial);
  expect((await box.ktether(['enable', '--key', key])).code).toBe(0);
  await first.stop('SIGKILL');
  // What a kill between "disable requested" and the relay's answer leaves on disk.
  updateTetherState(paths, { state: 'draining' });
  return { box, paths, sid };
}

describe('the service against the real relay', () => {
  it('SIGKILL: the next start prints the unclean-shutdown line, reconnects the same session from saved state, and the engineer gets in again', async () => {
    const serial = 'K1000-SVCKILL';
    const box = await simulatedAppliance(system, { serial, forwards: { 22: sshd.port, 443: web.port } });
    const first = await service(box.home);
    const { key, sid } = await issue(serial);
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toMatch(/Starting\.\n.*Starting ssh\.\n\[tether\]\n$/);
    expect(await reaches443(serial, 'before the crash')).toBe('before the crash');
    const viaJump = await runSsh(system.engineer.sshConfig, ['-J', 'tether-relay', `kace_support@${serial}`, 'hello']);
    expect(viaJump.stdout.toString()).toBe('appliance says: hello\n');

    await first.stop('SIGKILL');
    const before = await reconnects(sid);
    const second = await service(box.home);
    expect(second.proc.output()).toContain('tether pid file exists... unclean shutdown?\n');
    await eventually(async () => (await reconnects(sid)) > before, 15_000);
    expect((await system.sessions.get(sid))?.state).toBe('CONNECTED');
    expect(await reaches443(serial, 'after the crash')).toBe('after the crash');
    expect(readPid(agentPaths(box.home))).toBe(second.proc.child.pid);
    expect(readFileSync(join(box.home, 'ktether.log'), 'utf8')).toMatch(/resuming the tether of session \S+ from its saved state/);

    const off = await box.ktether(['disable']);
    expect(off.code).toBe(0);
    expect(await system.sessions.get(sid)).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
    await second.stop();
    await box.close();
  });

  it('a tether enabled by the CLI before the service existed is handed over at service start: same session, still reachable, then disabled through the service', async () => {
    const serial = 'K1000-SVCHAND';
    const box = await simulatedAppliance(system, { serial, forwards: { 22: sshd.port, 443: web.port } });
    const { key, sid } = await issue(serial);
    expect((await box.ktether(['enable', '--key', key])).code).toBe(0);
    const paths = agentPaths(box.home);
    const daemonPid = readPid(paths)!;
    expect(isDaemonAlive(daemonPid)).toBe(true);
    const before = await reconnects(sid);

    const svc = await service(box.home);
    expect(isDaemonAlive(daemonPid)).toBe(false);
    expect(readPid(paths)).toBe(svc.proc.child.pid);
    await eventually(async () => (await reconnects(sid)) > before, 15_000);
    expect((await system.sessions.get(sid))?.state).toBe('CONNECTED');
    expect(await reaches443(serial, 'handed over')).toBe('handed over');
    const log = readFileSync(join(box.home, 'ktether.log'), 'utf8');
    expect(log).toMatch(/handing the tether over to the ktether service/);
    expect(log).toMatch(new RegExp(`a tether daemon \\(pid ${daemonPid}\\) holds the tether: asking it to hand over`));

    const status = JSON.parse((await box.ktether(['status', '--json'])).stdout);
    expect(status).toMatchObject({ state: 'connected', sessionId: sid, service: { tether: 'connected', pid: svc.proc.child.pid } });
    expect((await box.ktether(['disable'])).code).toBe(0);
    expect(await system.sessions.get(sid)).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
    await svc.stop();
    await box.close();
  });

  it('a service killed while a disable was under way (state.json says draining) finishes the disable at its next start and never reconnects', async () => {
    const { box, paths, sid } = await killedWhileDisabling('K1000-SVCDRAIN');

    const second = await service(box.home);
    expect(second.proc.output()).toContain('tether pid file exists... unclean shutdown?\n');
    await eventually(async () => (await system.sessions.get(sid))?.state === 'CLOSED', 15_000);
    expect(await system.sessions.get(sid)).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
    expect(readTetherState(paths)).toMatchObject({ state: 'closed', pid: null, lastError: null });
    for (const gone of [paths.tunnelKey, paths.pidFile]) expect(existsSync(gone)).toBe(false);
    const log = readFileSync(paths.logFile, 'utf8');
    expect(log).toMatch(new RegExp(`finishing the disable of session ${sid} that was under way when the last holder stopped`));
    expect(log).not.toMatch(/resuming the tether/);
    const status = JSON.parse((await box.ktether(['status', '--json'])).stdout);
    expect(status.service).toMatchObject({ phase: 'idle', tether: 'disabled' });
    await second.stop();
    await box.close();
  });

  it('the same with a damaged config.json: the service still starts and serves, and logs what it could not do', async () => {
    const { box, paths } = await killedWhileDisabling('K1000-SVCDRAIN2');
    writeFileSync(paths.config, '{ not json');

    const second = await service(box.home);
    await eventually(() => /finishing the disable of session/.test(readFileSync(paths.logFile, 'utf8')), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(second.proc.child.exitCode).toBeNull(); // serving (under systemd: not a restart loop)
    expect(readFileSync(paths.logFile, 'utf8')).toMatch(/config\.json is not valid JSON/);
    expect(readFileSync(paths.logFile, 'utf8')).not.toMatch(/resuming the tether/);
    await second.stop();
    await box.close();
  });
});
