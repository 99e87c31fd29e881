// A relay-only process's /metrics (the TETHER_METRICS_PORT listener) moves with a real tunnel: the
// tunnel gauge goes 0 → 1, an engineer's `ssh -W` exchange adds its bytes both ways while the
// channel gauge shows it open, and a refused login counts once with a fixed reason word.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.js';
import { MetricsListener } from '../../shared/metrics-listener.js';
import { AUTH_FAILURE_REASONS, createMetrics } from '../../shared/metrics.js';
import { openTunnel, useRelay } from '../relay/relay-fixture.js';
import { addEngineer, connectAppliance, issue, runSsh, sshW, uniqueSerial, waitFor, type Appliance } from '../relay/relay-harness.js';
import { samplesOf, scrape, valueOf, type Exposition } from './prom-text.js';

const metrics = createMetrics({ roles: ['relay'] });
const { h, services: { sshd }, engineers: { alice } } = useRelay({ harness: { metrics }, services: { sshd: 'SSH-SERVICE\n' }, engineers: ['alice'] });
let listener: MetricsListener;
let url: string;
let app: Appliance | undefined;
const serial = uniqueSerial('METRICS');

beforeAll(async () => {
  listener = new MetricsListener({ metrics, listen: { host: '127.0.0.1', port: 0 }, logger: createLogger('metrics-test', 'silent') });
  url = `http://127.0.0.1:${await listener.start()}/metrics`;
});

afterAll(async () => {
  app?.end();
  await listener?.close();
});

const bytes = (e: Exposition, direction: string) => valueOf(e, 'tether_relay_bytes_total', { direction });

describe('relay metrics at /metrics', () => {
  it('serves Prometheus text with the default process metrics and only /metrics', async () => {
    const e = await scrape(url);
    expect(samplesOf(e, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(e.types.get('tether_relay_bytes_total')).toBe('counter');
    expect(valueOf(e, 'tether_role', { role: 'relay' })).toBe(1);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });

  it('tether_relay_tunnels goes from 0 to 1 when an appliance connects', async () => {
    expect(valueOf(await scrape(url), 'tether_relay_tunnels')).toBe(0);
    ({ app } = await openTunnel(h, serial, { 22: sshd.port }));
    expect(valueOf(await scrape(url), 'tether_relay_tunnels')).toBe(1);
  });

  it('counts the bytes of an engineer ssh -W exchange both ways', async () => {
    const before = await scrape(url);
    const input = randomBytes(100 * 1024);
    const r = await sshW(h, alice, `${serial}:22`, input);
    expect(r.code).toBe(0);
    // The relay counts payload bytes: the echo service returns its banner and then the input.
    const after = await waitFor(async () => {
      const e = await scrape(url);
      return bytes(e, 'from_appliance') - bytes(before, 'from_appliance') >= input.length + 'SSH-SERVICE\n'.length ? e : null;
    }, 'bytes from the appliance counted');
    expect(bytes(after, 'to_appliance') - bytes(before, 'to_appliance')).toBe(input.length);
    expect(bytes(after, 'from_appliance') - bytes(before, 'from_appliance')).toBe(input.length + 'SSH-SERVICE\n'.length);
    expect(after.types.get('tether_relay_bytes_total')).toBe('counter');
  });

  it('tether_relay_engineer_channels shows an open channel, and 0 once it closed', async () => {
    const run = runSsh(h, alice, ['-W', `${serial}:22`]);
    await waitFor(() => run.stdout().toString().includes('SSH-SERVICE'), 'service banner through the relay');
    expect(valueOf(await scrape(url), 'tether_relay_engineer_channels')).toBe(1);
    run.child.stdin!.end();
    await run.done;
    await waitFor(async () => valueOf(await scrape(url), 'tether_relay_engineer_channels') === 0, 'channel gauge back to 0');
  });

  it('counts a refused engineer login once, by kind and a fixed reason word, naming no one', async () => {
    const label = { kind: 'engineer', reason: 'key_refused' };
    const before = valueOf(await scrape(url), 'tether_relay_auth_failures_total', label);
    await addEngineer(h, 'erin'); // erin exists, with another key than the one offered below
    const wrongKey = await addEngineer(h, 'erin', false);
    const r = await runSsh(h, wrongKey, ['-W', `${serial}:22`]).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const after = await waitFor(async () => {
      const e = await scrape(url);
      return valueOf(e, 'tether_relay_auth_failures_total', label) > before ? e : null;
    }, 'auth failure counted');
    expect(valueOf(after, 'tether_relay_auth_failures_total', label)).toBe(before + 1);
    for (const s of samplesOf(after, 'tether_relay_auth_failures_total')) {
      expect(['appliance', 'engineer']).toContain(s.labels.kind);
      expect(AUTH_FAILURE_REASONS).toContain(s.labels.reason);
    }
    // A successful login counts nothing.
    expect((await sshW(h, alice, `${serial}:22`, Buffer.from('ping'))).code).toBe(0);
    const later = await scrape(url);
    expect(samplesOf(later, 'tether_relay_auth_failures_total').reduce((n, s) => n + s.value, 0)).toBe(
      samplesOf(after, 'tether_relay_auth_failures_total').reduce((n, s) => n + s.value, 0),
    );
  });

  it('counts a reused key as key_already_used, and no label carries a serial or a name', async () => {
    const label = { kind: 'appliance', reason: 'key_already_used' };
    const usedSerial = uniqueSerial('REUSE');
    const issued = await issue(h, usedSerial, { ports: [22] });
    const first = await connectAppliance(h, { serial: usedSerial, seed: issued.seed });
    await waitFor(async () => (await h.sessions.get(issued.session.id))?.state === 'CONNECTED', 'first machine CONNECTED');
    const before = valueOf(await scrape(url), 'tether_relay_auth_failures_total', label);
    await expect(connectAppliance(h, { serial: usedSerial, seed: issued.seed, machine: 'other' })).rejects.toThrow();
    const e = await waitFor(async () => {
      const x = await scrape(url);
      return valueOf(x, 'tether_relay_auth_failures_total', label) > before ? x : null;
    }, 'reuse counted');
    expect(valueOf(e, 'tether_relay_auth_failures_total', label)).toBe(before + 1);
    first.end();
    const text = await (await fetch(url)).text();
    for (const secret of [serial, usedSerial, 'alice', 'erin']) expect(text).not.toContain(secret);
  });
});
