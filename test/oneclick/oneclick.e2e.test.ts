// One-click end to end, every process real: `serve --roles api,workers,relay`, the generic help
// desk as a local HTTP server, simulated SMA 10.2 and SDA 6.1 appliances running the compiled
// `ktether`, and stock OpenSSH as the engineer. Older versions are refused and keep the key flow.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { useApplianceSshd, useEchoService } from '../helpers/system-fixtures.js';
import { identitySignKey, payloadOf, send, signed } from './helpers/appliance-requests.js';
import { useOneClickSystem } from './helpers/oneclick-fixture.js';
import { enrolledAppliance } from './helpers/oneclick-system.js';

const web = useEchoService();
const sshd = useApplianceSshd();
const s = useOneClickSystem();

const forwards = () => ({ 22: sshd.port, 443: web.port });
const ticketIdOf = (stdout: string) => /Support ticket generic:(\S+) (opened|updated)\./.exec(stdout)?.[1];
const kaceHash = (home: string) => (JSON.parse(readFileSync(join(home, 'accounts.json'), 'utf8')) as Record<string, { passwordHash: string }>).kace_support?.passwordHash;

function openEngineerChannel(serial: string) {
  const child = spawn('ssh', ['-F', s.system.engineer.sshConfig, '-o', 'BatchMode=yes', '-W', `${serial}:443`, 'tether-relay'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const firstEcho = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Date.now())));
  child.stdin.write('ping');
  return { firstEcho, exited };
}

describe('one-click on current appliances', () => {
  it('SMA 10.2: a click with a description opens a ticket, connects at once, the engineer gets in, and disable closes everything', async () => {
    const serial = 'K1000-OC0102';
    const box = await enrolledAppliance(s, { serial, product: 'sma', version: '10.2', forwards: forwards() });
    const description = 'Inventory page is blank since the upgrade to 10.2';

    const clicked = await box.ktether(['enable', '--description', description]);
    expect(clicked.stderr).toBe('');
    expect(clicked.code).toBe(0);
    expect(clicked.stdout).toMatch(/^\[\w{3}, \w{3} \d{2} \d{4} \d\d:\d\d:\d\d \S+\] \[ktether\] Starting\.$/m);
    expect(clicked.stdout).toMatch(/\[ktether\] Starting ssh\.$/m);
    expect(clicked.stdout).toMatch(/^\[tether\]$/m);
    const ticketId = ticketIdOf(clicked.stdout);
    expect(ticketId).toBeDefined();

    // The help desk received the new ticket with the customer's words.
    const opened = s.comments.comments.find((c) => c.ticket.id === ticketId);
    expect(opened?.body).toContain(description);
    expect(opened?.body).toContain(serial);

    const session = (await s.system.sessions.list()).find((x) => x.serial === serial)!;
    expect(session).toMatchObject({ state: 'CONNECTED', ticket: { system: 'generic', id: ticketId } });

    // Port 22 through `ssh -J`, port 443 through `-W`: the engineer reaches the appliance.
    const viaJump = await runSsh(s.system.engineer.sshConfig, ['-J', 'tether-relay', `kace_support@${serial}`, 'hello']);
    expect(viaJump.stdout.toString()).toBe('appliance says: hello\n');
    await eventually(() => s.comments.comments.find((c) => c.ticket.id === ticketId && /Tether connected/.test(c.body)), 15_000);

    // The password the appliance generated (and escrowed, sealed to custody) is what it set, and what custody reveals.
    const revealed = await s.system.tether(['session', 'credentials', session.id, '--engineer', 'alice']);
    expect(revealed.code).toBe(0);
    expect(verifyPassword(kaceHash(box.home)!, revealed.stdout.trim())).toBe(true);

    const channel = openEngineerChannel(serial);
    await channel.firstEcho;
    const disabled = await box.ktether(['disable']);
    expect(disabled.code).toBe(0);
    const disabledAt = Date.now();
    expect((await channel.exited) - disabledAt).toBeLessThan(1_000);
    expect(await s.system.sessions.get(session.id)).toMatchObject({ state: 'CLOSED', reason: 'customer_disabled' });
    expect(existsSync(join(box.home, 'tunnel_key'))).toBe(false);
    expect(kaceHash(box.home)).toBeUndefined();
    await eventually(() => s.comments.comments.find((c) => c.ticket.id === ticketId && /Tether closed/.test(c.body)), 15_000);
    const after = await s.system.tether(['session', 'credentials', session.id, '--engineer', 'alice']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/closed: its support password was destroyed/);
    expect(s.comments.violations).toEqual([]);
  });

  it('SDA 6.1: the customer password replaces the generated one (none is held), and a second click reuses the open ticket', async () => {
    const serial = 'SDA-OC0601';
    const box = await enrolledAppliance(s, { serial, product: 'sda', version: '6.1', forwards: forwards() });
    const first = await box.ktether(['enable', '--description', 'Driver feed fails to sync', '--password', 'chosen-by-customer']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const ticketId = ticketIdOf(first.stdout);
    expect(first.stdout).toMatch(/Support ticket generic:\S+ opened\./);
    expect(s.comments.comments.find((c) => c.ticket.id === ticketId)?.body).toContain('Driver feed fails to sync');
    expect(verifyPassword(kaceHash(box.home)!, 'chosen-by-customer')).toBe(true);

    const r = await runSsh(s.system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'sda says hi');
    expect(r.stdout.toString()).toBe('sda says hi');
    const sid = (await s.system.sessions.findLiveBySerial(serial))!.id;
    const reveal = await s.system.tether(['session', 'credentials', sid, '--engineer', 'alice']);
    expect(reveal.code).toBe(1);
    expect(reveal.stderr).toMatch(/no support password is held/);

    expect((await box.ktether(['disable'])).code).toBe(0);
    const second = await box.ktether(['enable', '--description', 'Still failing after the fix']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Support ticket generic:\S+ updated\./);
    expect(ticketIdOf(second.stdout)).toBe(ticketId);
    await eventually(() => s.comments.comments.find((c) => c.ticket.id === ticketId && /clicked again.*Still failing after the fix/.test(c.body)), 15_000);
    expect((await box.ktether(['disable'])).code).toBe(0);
  });
});

describe('one-click on older versions', () => {
  for (const [product, version, needs] of [['sma', '10.1', 'SMA 10.2'], ['sda', '6.0', 'SDA 6.1']] as const) {
    it(`${product.toUpperCase()} ${version} is refused locally and by the API with the key flow explained; the key flow works`, async () => {
      const serial = `OLD-${product.toUpperCase()}-${version.replace('.', '')}`;
      const box = await enrolledAppliance(s, { serial, product, version, forwards: forwards() });
      const ticketsBefore = s.comments.comments.length;

      const clicked = await box.ktether(['enable', '--description', 'please help']);
      expect(clicked.code).toBe(1);
      expect(clicked.stderr).toMatch(new RegExp(`one-click needs ${needs} or later .*ktether enable --key KEY`));
      expect(clicked.stderr.trim().split('\n')).toHaveLength(1);

      // The API refuses it as well, whatever a modified agent would send.
      const path = `/v1/appliances/${serial}/tether`;
      const refused = await send(s.apiUrl, signed(identitySignKey(box.home), 'POST', path, { description: 'please help' }));
      expect(refused.status).toBe(422);
      expect(refused.json.error).toMatchObject({ code: 'version_unsupported' });
      expect(refused.json.error?.message).toMatch(new RegExp(`one-click needs ${needs} or later.*ktether enable --key KEY`));
      expect(s.comments.comments.length).toBe(ticketsBefore);
      expect(await s.system.sessions.findLiveBySerial(serial)).toBeNull();

      // The key flow: the operator's key is sealed to this enrolled appliance and works here.
      const issued = await s.system.tether(['key', 'issue', '--serial', serial, '--product', product, '--version', version, '--ttl', '2h']);
      expect(issued.code).toBe(0);
      const payload = payloadOf(issued.stdout.trim());
      expect(payload.sealed).toBeDefined();
      expect(payload.cred).toBeUndefined();
      expect(payload.pw).toBeUndefined();
      const enabled = await box.ktether(['enable', '--key', issued.stdout.trim()]);
      expect(enabled.stderr).toBe('');
      expect(enabled.code).toBe(0);
      const r = await runSsh(s.system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'old but fine');
      expect(r.stdout.toString()).toBe('old but fine');
      expect((await box.ktether(['disable'])).code).toBe(0);
    });
  }
});
