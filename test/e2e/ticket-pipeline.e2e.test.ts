// The ticket-driven pipeline end to end, every process real: a signed generic webhook → the key
// mail at a real SMTP server → `ktether enable` with the key copied from the mail → "connected" on
// the ticket → an engineer through the relay → the warning mail → expiry on time, and teardown by
// ticket closure. The server runs as `serve --roles api,workers,relay`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseMail } from '../../shared/mail/mail-parse.js';
import { createSmtpCapture, type SmtpCapture } from '../../shared/mail/smtp-capture.js';
import { signGeneric } from '../../ticketing/generic-signature.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { eventually } from '../helpers/processes.js';
import { freePort } from '../helpers/redis-server.js';
import { simulatedAppliance, startTetherSystem, type SimulatedAppliance, type TetherSystem } from '../helpers/tether-system.js';
import { startCommentServer, type CommentServer } from '../pipeline/helpers/comment-server.js';

const SECRET = 'e2e-webhook-secret-0123456789';
let system: TetherSystem;
let smtp: SmtpCapture;
let comments: CommentServer;
let echo: TcpService;
let apiUrl: string;
const mails: { to: string[]; subject: string; text: string }[] = [];

beforeAll(async () => {
  smtp = createSmtpCapture({ outboxDir: join(mkdtempSync(join(tmpdir(), 'tether-smtp-')), 'outbox') });
  await smtp.start();
  smtp.onMail((m) => {
    const parsed = parseMail(m.raw);
    mails.push({ to: m.to, subject: parsed.subject, text: parsed.text ?? '' });
  });
  comments = await startCommentServer(SECRET);
  echo = await startEchoService();
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  system = await startTetherSystem(
    inject('redisUrl'),
    {
      SMTP_URL: smtp.url,
      TETHER_API_PORT: String(apiPort),
      TETHER_WEBHOOK_SECRET: SECRET,
      TETHER_ADMIN_TOKEN: 'e2e-admin-token-0123456789',
      TETHER_TICKET_COMMENT_URL: comments.url,
      TETHER_TICKET_KEY_TTL: '15s',
      TETHER_WARN_OFFSETS: '6s',
    },
    'api,workers,relay',
  );
}, 90_000);

afterAll(async () => {
  await system?.close();
  await echo?.close();
  await comments?.close();
  await smtp?.close();
});

async function webhook(type: 'ticket.created' | 'ticket.closed', ticketId: string, serial: string, email: string): Promise<number> {
  const body = JSON.stringify({
    id: `evt-${ticketId}-${type}`,
    type,
    ticket: {
      id: ticketId,
      subject: 'Inventory page is blank',
      description: 'Since the upgrade the inventory page shows nothing.',
      status: type === 'ticket.closed' ? 'closed' : 'open',
      requester: { email, name: 'IT Ops' },
      tags: ['tether'],
      appliance: { serial, product: 'sma', version: '10.1' },
    },
  });
  const res = await fetch(`${apiUrl}/v1/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signGeneric(SECRET, body, Date.now()) },
    body,
  });
  return res.status;
}

/** The key as a customer copies it from the mail: the lines from "KT1." to the first blank line. */
function keyFromMailBody(text: string): string {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim().startsWith('KT1.'));
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end).join('\n');
}

function openEngineerChannel(serial: string) {
  const child = spawn('ssh', ['-F', system.engineer.sshConfig, '-o', 'BatchMode=yes', '-W', `${serial}:443`, 'tether-relay'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const firstEcho = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
  child.stdin.write('ping');
  return { firstEcho, exited, kill: () => child.kill() };
}

/** Opens ticket `id` for `serial`, waits for the key mail to `email`, and enables that key on a fresh simulated appliance. */
async function enabledFromTicket(id: string, serial: string, email: string): Promise<SimulatedAppliance> {
  expect(await webhook('ticket.created', id, serial, email)).toBe(202);
  const keyMail = await eventually(() => mails.find((m) => m.to.includes(email) && /Tether key/.test(m.subject)), 20_000);
  const box = await simulatedAppliance(system, { serial, forwards: { 443: echo.port } });
  expect((await box.ktether(['enable', '--key', keyFromMailBody(keyMail.text)])).code).toBe(0);
  return box;
}

describe('ticket-driven tether, end to end', () => {
  it('provisions from a webhook, mails the key, reports connected, warns, and expires on time', async () => {
    const serial = 'K1000-PIPE01';
    const email = 'it-ops@customer-one.example';
    expect(await webhook('ticket.created', 'T-1001', serial, email)).toBe(202);

    const keyMail = await eventually(() => mails.find((m) => m.to.includes(email) && /Tether key/.test(m.subject)), 20_000);
    expect(keyMail.text).toMatch(/Settings > Support > Troubleshooting Tools/);
    const key = keyFromMailBody(keyMail.text);

    const box = await simulatedAppliance(system, { serial, forwards: { 443: echo.port } });
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    await eventually(() => comments.comments.find((c) => c.ticket.id === 'T-1001' && /Tether connected/.test(c.body)), 15_000);

    const channel = openEngineerChannel(serial);
    await channel.firstEcho;
    const session = (await system.sessions.list()).find((s) => s.serial === serial)!;
    expect(session.state).toBe('CONNECTED');

    await eventually(() => mails.find((m) => m.to.includes(email) && /expires soon/.test(m.subject)), 20_000);
    const closedAt = await channel.exited;
    // Lateness against the deadline: the channel must close at expiry, not long after.
    expect(closedAt - session.expiresAt).toBeLessThan(3_000);
    expect(closedAt).toBeGreaterThanOrEqual(session.expiresAt - 100);
    // The agent also stops by itself at the key's expiry, so the channel may close a moment before
    // the expiry job records the session as CLOSED(expired).
    const closed = await eventually(async () => {
      const s = await system.sessions.get(session.id);
      return s?.state === 'CLOSED' ? s : undefined;
    }, 3_000);
    expect(closed.reason).toBe('expired');
    expect(closed.closedAt! - session.expiresAt).toBeLessThan(1_000);
    await eventually(() => comments.comments.find((c) => c.ticket.id === 'T-1001' && /Tether closed/.test(c.body)), 15_000);
    await eventually(() => mails.find((m) => m.to.includes(email) && /Tether closed/.test(m.subject)), 15_000);
    // The agent learns it at its next reconnect and removes the support account.
    await eventually(() => !('kace_support' in JSON.parse(readFileSync(join(box.home, 'accounts.json'), 'utf8'))), 15_000);
    expect(comments.violations).toEqual([]);
  });

  it('tears the tether down within a second of the ticket being closed', async () => {
    const serial = 'K1000-PIPE02';
    const email = 'it-ops@customer-two.example';
    const box = await enabledFromTicket('T-1002', serial, email);
    const channel = openEngineerChannel(serial);
    await channel.firstEcho;

    expect(await webhook('ticket.closed', 'T-1002', serial, email)).toBe(202);
    const acceptedAt = Date.now();
    const closedAt = await channel.exited;
    expect(closedAt - acceptedAt).toBeLessThan(1_000);
    const session = (await system.sessions.list()).find((s) => s.serial === serial)!;
    expect(session).toMatchObject({ state: 'CLOSED', reason: 'ticket_closed' });
  });

  it('reports a tunnel cut without a goodbye as lost on the ticket, and connected again after restart', async () => {
    const serial = 'K1000-PIPE03';
    const email = 'it-ops@customer-three.example';
    const box = await enabledFromTicket('T-1003', serial, email);
    const sid = (await system.sessions.list()).find((s) => s.serial === serial)!.id;

    process.kill(Number(readFileSync(join(box.home, 'ktether.pid'), 'utf8')), 'SIGKILL');
    await eventually(async () => (await system.sessions.get(sid))?.state === 'LOST', 10_000);
    await eventually(() => comments.comments.find((c) => c.ticket.id === 'T-1003' && /Tether lost/.test(c.body)), 15_000);

    const restarted = await box.ktether(['reset']);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/tether pid file exists\.\.\. unclean shutdown\?/);
    await eventually(async () => (await system.sessions.get(sid))?.state === 'CONNECTED', 10_000);
    await eventually(() => comments.comments.find((c) => c.ticket.id === 'T-1003' && /Tether reconnected/.test(c.body)), 15_000);
  });
});
