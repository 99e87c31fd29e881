// The support password is never readable from the mail (issue 13), end to end with the compiled
// server (relay + workers + embedded SMTP capture) and real agents: a key for an unenrolled
// appliance carries no password, the appliance sets its own and escrows it sealed over the tunnel,
// `tether session credentials` shows exactly that password (audited); a key in the old format
// still works with the password it carries; forged escrows are refused and change nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyPassword } from '../../appliance/accounts/file-accounts.js';
import { sendGlobalRequest } from '../../appliance/tunnel/global-request.js';
import { encodeKey } from '../../shared/key/key-codec.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { ESCROW_REQUEST, encodeEscrowRequest, sealPassword } from '../../shared/key/password-escrow.js';
import { parseMail } from '../../shared/mail/mail-parse.js';
import { newId } from '../../shared/session/issue-key.js';
import { generateSeedPair } from '../../shared/ssh-keys.js';
import { CredentialStore, credentialSecretFrom, custodyKeyFrom } from '../../shared/store/credential.store.js';
import { custodyRedisKey } from '../../shared/store/redis-keys.js';
import { startEchoService, type TcpService } from '../helpers/appliance-services.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { eventually } from '../helpers/processes.js';
import { simulatedAppliance, startTetherSystem, type SimulatedAppliance, type TetherSystem } from '../helpers/tether-system.js';

let system: TetherSystem;
let echo: TcpService;

beforeAll(async () => {
  system = await startTetherSystem(inject('redisUrl'), {}, 'relay,workers', ['--smtp-capture']);
  echo = await startEchoService();
}, 90_000);

afterAll(async () => {
  await system?.close();
  await echo?.close();
});

const payloadOf = (key: string) => JSON.parse(Buffer.from(key.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const prefix = () => system.env.TETHER_REDIS_PREFIX!;
const kaceHash = (box: SimulatedAppliance) =>
  (JSON.parse(readFileSync(join(box.home, 'accounts.json'), 'utf8')) as Record<string, { passwordHash: string }>).kace_support!.passwordHash;
const stateOf = (box: SimulatedAppliance) => JSON.parse(readFileSync(join(box.home, 'state.json'), 'utf8')) as Record<string, unknown>;
const auditOf = async (sid: string) => (await system.audit.list()).filter((e) => e.fields.sid === sid);

async function reveal(sid: string): Promise<string> {
  const r = await system.tether(['session', 'credentials', sid, '--engineer', 'alice']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** The captured key mail for `serial`, raw and decoded. */
async function keyMail(serial: string): Promise<{ raw: string; text: string; html: string }> {
  const outbox = join(system.home, 'outbox');
  return eventually(() => {
    if (!existsSync(outbox)) return undefined;
    for (const file of readdirSync(outbox).filter((f) => f.endsWith('.eml'))) {
      const raw = readFileSync(join(outbox, file), 'utf8');
      const mail = parseMail(raw);
      if (mail.subject.includes(serial)) return { raw, text: mail.text ?? '', html: mail.html ?? '' };
    }
    return undefined;
  }, 20_000);
}

describe('escrow keys for unenrolled appliances', () => {
  const serial = 'K1000-ESCROW1';
  let sid = '';
  let password = '';
  let box: SimulatedAppliance;

  it('carry no password; the appliance sets its own, escrows it, and credentials reveals exactly that one (audited)', async () => {
    const issued = await system.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--email', 'it-ops@customer.example', '--json']);
    expect(issued.stderr).toBe('');
    const { id, key } = JSON.parse(issued.stdout) as { id: string; key: string };
    sid = id;
    const payload = payloadOf(key);
    expect(payload.pw).toEqual({ mode: 'escrow' });
    expect(payload.custody).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await system.redis.exists(custodyRedisKey(prefix(), sid))).toBe(0); // nothing is known before the appliance says

    box = await simulatedAppliance(system, { serial, forwards: { 443: echo.port } });
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);

    // The escrow went first: the password is in custody as soon as enable returns.
    password = await reveal(sid);
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(verifyPassword(kaceHash(box), password)).toBe(true);

    expect(key).not.toContain(password);
    expect(JSON.stringify(payload)).not.toContain(password);
    const mail = await keyMail(serial);
    expect(mail.text.replace(/\s+/g, '')).toContain(key); // the mail does carry this very key
    for (const part of [mail.raw, mail.text, mail.html]) expect(part).not.toContain(password);

    const atRest = await system.redis.get(custodyRedisKey(prefix(), sid));
    expect(atRest).toMatch(/^\{"serial":"K1000-ESCROW1","box":\{/);
    expect(atRest).not.toContain(password);

    const audit = await auditOf(sid);
    const escrowed = audit.filter((e) => e.type === 'credential.escrowed');
    expect(escrowed).toHaveLength(1);
    expect(escrowed[0]!.fields).toMatchObject({ serial, actor: expect.stringMatching(/^relay:/) });
    expect(audit.filter((e) => e.type === 'credential.revealed').map((e) => e.fields.engineer)).toEqual(['alice']);
    expect(JSON.stringify(audit)).not.toContain(password);

    // The appliance recorded the acknowledgement and kept nothing of the password but its hash.
    expect(stateOf(box).escrow).toBe('acknowledged');
    expect(existsSync(join(box.home, 'password_escrow.json'))).toBe(false);
    for (const file of readdirSync(box.home)) expect(readFileSync(join(box.home, file), 'utf8'), file).not.toContain(password);
  });

  it('a reconnect (ktether reset) does not escrow again, and the password stays the same', async () => {
    const reset = await box.ktether(['reset']);
    expect(reset.code, reset.stderr).toBe(0);
    await eventually(async () => (await system.sessions.get(sid))?.state === 'CONNECTED');
    expect(await reveal(sid)).toBe(password);
    expect((await auditOf(sid)).filter((e) => e.type.startsWith('credential.escrow'))).toHaveLength(1);
  });

  it('a forged escrow (from an engineer, from a login that is not the tunnel) is refused and changes nothing', async () => {
    const atRest = await system.redis.get(custodyRedisKey(prefix(), sid));
    const custody = custodyKeyFrom(credentialSecretFrom(loadOrCreateSigningKey(system.home).privateKey));
    const forged = encodeEscrowRequest(sealPassword(custody.publicRaw, 'Forged-Passw0rd-99', serial, sid));
    const connect = (username: string, privateKey: string) =>
      new Promise<ssh2.Client>((resolve, reject) => {
        const c = new ssh2.Client();
        c.once('ready', () => resolve(c));
        c.once('error', reject);
        c.connect({ host: '127.0.0.1', port: system.relayPort, username, privateKey, hostVerifier: () => true, readyTimeout: 10_000 });
      });

    const engineer = await connect('alice', readFileSync(system.engineer.keyFile, 'utf8'));
    expect(await sendGlobalRequest(engineer, ESCROW_REQUEST, forged, 5_000)).toBe('failure');
    engineer.end();
    // Someone holding the appliance's own tunnel_key, logged in beside the live tunnel.
    const beside = await connect(serial, readFileSync(join(box.home, 'tunnel_key'), 'utf8'));
    expect(await sendGlobalRequest(beside, ESCROW_REQUEST, forged, 5_000)).toBe('failure');
    beside.end();

    expect(await system.redis.get(custodyRedisKey(prefix(), sid))).toBe(atRest);
    expect(await reveal(sid)).toBe(password);
    const refused = (await auditOf(sid)).filter((e) => e.type === 'credential.escrow_refused');
    expect(refused.map((e) => e.fields.why)).toEqual(["not from the session's tunnel"]);
    // The live tunnel never moved.
    const probe = await runSsh(system.engineer.sshConfig, ['-W', `${serial}:443`, 'tether-relay'], 'still here');
    expect(probe.stdout.toString()).toBe('still here');
  });

  it('closing the session destroys the escrowed password', async () => {
    expect((await box.ktether(['disable'])).code).toBe(0);
    const after = await system.tether(['session', 'credentials', sid, '--engineer', 'alice']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/closed: its support password was destroyed/);
    expect(await system.redis.exists(custodyRedisKey(prefix(), sid))).toBe(0);
  });
});

describe('keys already in the field', () => {
  it('a key in the old format (password in the key) still enables, with the password it carries', async () => {
    // Minted exactly as before escrow: pw.value in the bearer key, the same password in custody.
    const serial = 'K1000-OLDKEY1';
    const signingKey = loadOrCreateSigningKey(system.home);
    const { seed, raw } = generateSeedPair();
    const sid = newId();
    const jti = newId();
    const issuedAt = Math.floor(Date.now() / 1000) * 1000;
    const expiresAt = issuedAt + 3_600_000;
    const password = 'Old-Format-Passw0rd-7';
    const key = encodeKey(
      {
        v: 1,
        kid: signingKey.kid,
        jti,
        sid,
        serial,
        product: 'sma',
        iat: issuedAt / 1000,
        exp: expiresAt / 1000,
        relay: { host: '127.0.0.1', port: system.relayPort, fp: loadOrCreateRelayHostKey(system.home).fingerprint },
        ports: [22, 80, 443, 3306],
        cred: seed.toString('base64url'),
        pw: { mode: 'generated', value: password },
      },
      signingKey.privateKey,
    );
    await system.sessions.create({ id: sid, jti, serial, product: 'sma', ports: [22, 80, 443, 3306], tunnelPub: raw, issuedAt, expiresAt }, 'test');
    await new CredentialStore(system.redis, prefix(), credentialSecretFrom(signingKey.privateKey)).put(sid, password, expiresAt, Date.now());

    const box = await simulatedAppliance(system, { serial, forwards: { 443: echo.port } });
    const enabled = await box.ktether(['enable', '--key', key]);
    expect(enabled.stderr).toBe('');
    expect(enabled.code).toBe(0);
    expect(verifyPassword(kaceHash(box), password)).toBe(true);
    expect(await reveal(sid)).toBe(password);
    expect(stateOf(box).escrow).toBe('none');
    expect((await auditOf(sid)).filter((e) => e.type.startsWith('credential.escrow'))).toHaveLength(0);
    expect((await box.ktether(['disable'])).code).toBe(0);
  });
});
