// The service's pure pieces, in memory with a hand-driven clock: its phase machine and what the
// customer is told, control-request parsing, the sign-in rate limit, page sessions and CSRF, the
// page model (consent sentence, details) and HTML escaping.
import { describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../appliance/agent-config.js';
import type { Clock } from '../../appliance/clock.js';
import { pageModel, relative } from '../../appliance/page/page-model.js';
import { PageSessions } from '../../appliance/page/page-sessions.js';
import { esc } from '../../appliance/page/page-view.js';
import { SignInLimiter } from '../../appliance/page/sign-in-limiter.js';
import { parseControlRequest } from '../../appliance/service/control-request.schema.js';
import { ServicePhaseMachine, tetherStatusOf } from '../../appliance/service/service-phase.js';
import { loadServiceSettings } from '../../appliance/service/service-settings.js';
import type { ServiceInfo, StatusReport } from '../../appliance/status-report.js';
import { isAppError } from '../../shared/errors.js';

function manualClock(start = Date.parse('2026-12-01T10:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined, advance: (ms) => (now += ms) };
}

describe('service phases', () => {
  it('allows the table and refuses the rest with a coded error', () => {
    const seen: string[] = [];
    const m = new ServicePhaseMachine((to, from) => seen.push(`${from}→${to}`));
    m.to('enabling');
    m.to('running');
    m.to('disabling');
    m.to('idle');
    m.to('running'); // resume at start
    m.to('idle'); // the relay ended it
    expect(seen).toEqual(['idle→enabling', 'enabling→running', 'running→disabling', 'disabling→idle', 'idle→running', 'running→idle']);
    let err: unknown;
    try {
      m.to('disabling');
    } catch (e) {
      err = e;
    }
    expect(isAppError(err, 'illegal_transition')).toBe(true);
    m.to('stopped');
    expect(() => m.to('idle')).toThrow(/illegal service transition stopped → idle/);
  });

  it('tells the customer disabled, connecting, connected, lost or disabling', () => {
    expect(tetherStatusOf('idle', undefined, false)).toBe('disabled');
    expect(tetherStatusOf('enabling', 'connecting', false)).toBe('connecting');
    expect(tetherStatusOf('running', 'connected', true)).toBe('connected');
    expect(tetherStatusOf('running', 'connecting', true)).toBe('lost');
    expect(tetherStatusOf('running', 'initial', false)).toBe('connecting');
    expect(tetherStatusOf('running', 'draining', true)).toBe('disabling');
    expect(tetherStatusOf('disabling', 'connected', true)).toBe('disabling');
  });
});

describe('control requests', () => {
  it('parses the versioned requests and names what is wrong with the rest, in one line', () => {
    expect(parseControlRequest('{"v":1,"id":3,"op":"enable","source":{"kind":"key","key":"KT1.a.b"},"timeoutMs":30000}')).toEqual({
      ok: true,
      request: { v: 1, id: 3, op: 'enable', source: { kind: 'key', key: 'KT1.a.b' }, timeoutMs: 30000 },
    });
    expect(parseControlRequest('nope')).toEqual({ ok: false, id: null, reason: 'invalid request: not JSON (one JSON object per line)' });
    expect(parseControlRequest('{"id":4,"op":"status"}')).toEqual({ ok: false, id: 4, reason: 'unsupported protocol version null: this service speaks 1' });
    const extra = parseControlRequest('{"v":1,"id":5,"op":"disable","force":true}');
    expect(extra).toMatchObject({ ok: false, id: 5, reason: expect.stringMatching(/^invalid request: .*force/) });
    expect(parseControlRequest('{"v":1,"id":-1,"op":"status"}')).toMatchObject({ ok: false, id: null });
    expect(parseControlRequest('[1,2]')).toMatchObject({ ok: false, id: null });
  });
});

describe('KTETHER_UI_LISTEN', () => {
  it('defaults to 127.0.0.1:8442, takes HOST:PORT, [v6]:PORT or off, and names the variable when wrong', () => {
    expect(loadServiceSettings({}).uiListen).toEqual({ host: '127.0.0.1', port: 8442 });
    expect(loadServiceSettings({ KTETHER_UI_LISTEN: '[::1]:0' }).uiListen).toEqual({ host: '::1', port: 0 });
    expect(loadServiceSettings({ KTETHER_UI_LISTEN: 'off' }).uiListen).toBeNull();
    expect(() => loadServiceSettings({ KTETHER_UI_LISTEN: '127.0.0.1:99999' })).toThrow(/^invalid configuration: KTETHER_UI_LISTEN: expected HOST:PORT/);
  });
});

describe('failed sign-ins', () => {
  it('refuses an address after five failures in 15 minutes, until the oldest leaves the window', () => {
    const clock = manualClock();
    const l = new SignInLimiter({ clock });
    for (let i = 0; i < 5; i++) {
      expect(l.retryAfterMs('10.0.0.1')).toBe(0);
      l.failed('10.0.0.1');
      clock.advance(60_000);
    }
    expect(l.retryAfterMs('10.0.0.1')).toBe(10 * 60_000);
    expect(l.retryAfterMs('10.0.0.2')).toBe(0);
    clock.advance(10 * 60_000);
    expect(l.retryAfterMs('10.0.0.1')).toBe(0);
    l.succeeded('10.0.0.1');
    expect(l.retryAfterMs('10.0.0.1')).toBe(0);
  });

  it('caps failures over all addresses too (the page usually sits behind one proxy address)', () => {
    const clock = manualClock();
    const l = new SignInLimiter({ clock, maxFailuresAll: 20 });
    for (let i = 0; i < 20; i++) l.failed(`10.0.1.${i}`);
    expect(l.retryAfterMs('10.9.9.9')).toBe(15 * 60_000);
  });
});

describe('page sessions', () => {
  it('finds a session by its cookie, rotates id and token at sign-in, expires idle ones, compares tokens exactly', () => {
    const clock = manualClock();
    const sessions = new PageSessions({ clock, idleMs: 30 * 60_000 });
    const anon = sessions.create()!;
    expect(sessions.cookie(anon)).toBe(`ktether_ui=${anon.id}; Path=/support/tether; HttpOnly; SameSite=Strict`);
    expect(sessions.fromCookie(`other=1; ktether_ui=${anon.id}`)).toBe(anon);
    expect(sessions.fromCookie('ktether_ui=../../etc')).toBeUndefined();
    const signed = sessions.signIn(anon);
    expect(signed.id).not.toBe(anon.id);
    expect(signed.csrf).not.toBe(anon.csrf);
    expect(sessions.fromCookie(`ktether_ui=${anon.id}`)).toBeUndefined();
    expect(sessions.csrfMatches(signed, signed.csrf)).toBe(true);
    expect(sessions.csrfMatches(signed, anon.csrf)).toBe(false);
    expect(sessions.csrfMatches(signed, undefined)).toBe(false);
    signed.flash = { kind: 'ok', text: 'done' };
    expect(sessions.takeFlash(signed)).toEqual({ kind: 'ok', text: 'done' });
    expect(sessions.takeFlash(signed)).toBeUndefined();
    clock.advance(31 * 60_000);
    expect(sessions.fromCookie(`ktether_ui=${signed.id}`)).toBeUndefined();
  });
});

describe('the page model', () => {
  const config: AgentConfig = {
    v: 1,
    serial: 'K1000-MODEL1',
    product: 'sma',
    version: '10.2',
    vendorKeyFile: 'vendor.pub',
    forwards: { '22': { host: '127.0.0.1', port: 22 }, '443': { host: '127.0.0.1', port: 443 } },
    accounts: 'file',
  };
  const now = Date.parse('2026-12-01T10:00:00Z');
  const base: StatusReport & { service: ServiceInfo } = {
    serial: config.serial,
    product: 'sma',
    version: '10.2',
    state: 'closed',
    daemon: 'stopped',
    sessionId: null,
    relay: null,
    relayFingerprint: null,
    ports: [],
    expiresAt: null,
    connectedAt: null,
    connections: 0,
    pid: null,
    lastError: null,
    enrolled: true,
    waitingKeys: [],
    inboxError: null,
    service: { pid: 42, phase: 'idle', tether: 'disabled', since: new Date(now).toISOString(), ticket: null, channels: {}, page: null, oneClick: true, lastEnable: null },
  };

  it('before enabling: nothing reachable, the ports the appliance forwards, the description form on 10.2', () => {
    const m = pageModel(config, base, [], now);
    expect(m).toMatchObject({ state: 'disabled', word: 'DISABLED', form: 'description', appliance: 'SMA K1000-MODEL1 · version 10.2' });
    expect(m.reach).toMatch(/^Nothing is reachable now\. When you enable the tether, the vendor's support engineers can reach ports 22 \(SSH\) and 443 \(HTTPS\) of this appliance/);
    expect(pageModel(config, { ...base, service: { ...base.service, oneClick: false } }, [], now).form).toBe('key');
  });

  it('while enabled: session, ticket, ports and until when, open engineer channels, lost with its last error', () => {
    const enabled = {
      ...base,
      state: 'connecting',
      sessionId: 'sid-1',
      relay: 'relay.vendor.example:22',
      ports: [22, 443],
      expiresAt: '2026-12-01T12:00:00Z',
      lastError: 'connection to the relay lost',
      service: { ...base.service, phase: 'running', tether: 'lost', ticket: 'generic:4711', channels: { '22': 2 } },
    };
    const m = pageModel(config, enabled, ['a line'], now);
    expect(m.form).toBeNull();
    expect(m.word).toBe('LOST');
    expect(Object.fromEntries(m.rows)).toMatchObject({
      Session: 'sid-1',
      Ticket: 'generic:4711',
      'Vendor can reach': 'ports 22 (SSH) and 443 (HTTPS)',
      Until: expect.stringMatching(/^Tue, Dec 01 2026 \d\d:00:00 \S+ \(in 2 h 0 min\)$/),
      'Open engineer connections': '2 on port 22',
      'Last error': 'connection to the relay lost',
    });
    expect(m.reach).toMatch(/can reach ports 22 \(SSH\) and 443 \(HTTPS\) of this appliance .* until Tue, Dec 01 2026/);
  });

  it('says how long ago and how long until, and escapes every markup character', () => {
    expect(relative(90_000)).toBe('in 1 min');
    expect(relative(-3 * 86_400_000 - 3_600_000)).toBe('3 d 1 h ago');
    expect(esc(`<img src=x onerror="a('b')">&`)).toBe('&#60;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&#62;&#38;');
  });
});
