// One-click on the embedded default, as a newcomer's first try: no help desk configured beyond the
// generic one's local sink (`serve --ticket-sink`, which scripts/up passes when
// TETHER_TICKET_COMMENT_URL is unset). The click opens a ticket, the appliance connects, and every
// comment lands in TETHER_HOME/tickets/. Without the sink, one-click answers with what is missing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { eventually } from '../helpers/processes.js';
import { freePort } from '../helpers/redis-server.js';
import { simulatedAppliance, startTetherSystem, type TetherSystem } from '../helpers/tether-system.js';

const SECRET = 'local-sink-webhook-secret-0123456789';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function system(serveArgs: string[]): Promise<{ system: TetherSystem; apiUrl: string }> {
  const apiPort = await freePort();
  const s = await startTetherSystem(
    inject('redisUrl'),
    { TETHER_API_PORT: String(apiPort), TETHER_WEBHOOK_SECRET: SECRET, TETHER_COMMENT_BURST: '0' },
    'api,workers,relay',
    ['--smtp-capture', ...serveArgs],
  );
  open.push(s);
  return { system: s, apiUrl: `http://127.0.0.1:${apiPort}` };
}

async function enrolled(s: TetherSystem, apiUrl: string, serial: string, web: TcpService) {
  const box = await simulatedAppliance(s, { serial, product: 'sma', version: '10.2', forwards: { 443: web.port } });
  const token = (await s.tether(['appliance', 'token', '--serial', serial])).stdout.trim();
  const r = await box.ktether(['enroll', '--api', apiUrl, '--token', token]);
  expect(r.code, r.stderr).toBe(0);
  return box;
}

describe('the generic help desk without a comment URL', () => {
  it('with the local sink, a first one-click succeeds and its comments land in TETHER_HOME/tickets/', async () => {
    const { system: s, apiUrl } = await system(['--ticket-sink']);
    const web = await startEchoService();
    open.push(web);
    const box = await enrolled(s, apiUrl, 'K1000-SINK01', web);
    const r = await box.ktether(['enable', '--description', 'Inventory page is blank']);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(s.home, 'tickets');
    const file = await eventually(() => {
      const files = readdirSync(dir);
      return files.length === 1 ? join(dir, files[0]!) : null;
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toContain('Inventory page is blank');
    await eventually(() => /connected/i.test(readFileSync(file, 'utf8').split('public comment ---').slice(1).join('') + readFileSync(file, 'utf8')) && readFileSync(file, 'utf8').split('---').length > 3);
    expect(s.server.output()).toMatch(/ticket comment filed: generic:tether-/);
  }, 60_000);

  it('without it, one-click answers with the configuration that is missing, not "try again shortly"', async () => {
    const { system: s, apiUrl } = await system([]);
    const web = await startEchoService();
    open.push(web);
    const box = await enrolled(s, apiUrl, 'K1000-SINK02', web);
    const r = await box.ktether(['enable', '--description', 'Inventory page is blank']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TETHER_TICKET_COMMENT_URL/);
    expect(r.stderr).not.toMatch(/try again shortly/);
  }, 60_000);
});
