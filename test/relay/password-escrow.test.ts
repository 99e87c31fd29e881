// Password escrow at the relay (in process, real Redis, ssh2 appliances, the agent's own request
// sender): taken only from the session's tunnel, stored sealed as received, idempotent; every forged
// or misplaced escrow refused with nothing changed; replies keep their order when requests are
// pipelined; and the deposit script's rules (closed session, session not minted for escrow, TTL).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sendGlobalRequest } from '../../appliance/tunnel/global-request.js';
import { decodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import { ESCROW_REQUEST, encodeEscrowRequest, sealPassword } from '../../shared/key/password-escrow.js';
import { createLogger } from '../../shared/logger.js';
import { issueKey } from '../../shared/session/issue-key.js';
import { CredentialStore, credentialSecretFrom, custodyKeyFrom } from '../../shared/store/credential.store.js';
import { custodyRedisKey } from '../../shared/store/redis-keys.js';
import { EscrowDepositStore } from '../../shared/store/escrow-deposit.store.js';
import { RelayServer } from '../../relay/relay-server.js';
import { addEngineer, auditOf, connectAppliance, forwardPorts, startHarness, startService, uniqueSerial, waitFor, type Harness } from './relay-harness.js';
import { AccessStore } from '../../shared/store/access.store.js';

const pair = generateKeyPairSync('ed25519');
const signingKey = { kid: keyIdOf(pair.publicKey), privateKey: pair.privateKey, publicKey: pair.publicKey, publicPem: '' };
const custody = custodyKeyFrom(credentialSecretFrom(signingKey.privateKey));

let h: Harness;
/** The harness with our relay's port: this relay has a custody store, the harness's has none. */
let at: Harness;
let relay: RelayServer;
let subscriber: Redis;
let credentials: CredentialStore;
let deposits: EscrowDepositStore;
let svc: Awaited<ReturnType<typeof startService>>;
let depositDelayMs = 0;

beforeAll(async () => {
  h = await startHarness(inject('redisUrl'));
  subscriber = new Redis(inject('redisUrl'));
  deposits = new EscrowDepositStore(h.redis, h.prefix);
  // Our own interface, slowed on demand: a reply that waits on the store while others queue behind it.
  const slowed = {
    deposit: async (...args: Parameters<EscrowDepositStore['deposit']>) => {
      if (depositDelayMs) await new Promise((r) => setTimeout(r, depositDelayMs));
      return deposits.deposit(...args);
    },
  } as EscrowDepositStore;
  relay = new RelayServer({
    sessions: h.sessions,
    engineers: h.engineers,
      access: new AccessStore(h.redis, h.prefix),
      engineerPolicy: 'all',
    audit: h.audit,
    custody: slowed,
    subscriber,
    hostKey: h.hostKey,
    listen: { host: '127.0.0.1', port: 0 },
    keepaliveMs: 15_000,
    heartbeatFlushMs: 200,
    relayId: 'escrow-relay',
    now: () => Date.now(),
    logger: createLogger('relay-escrow-test', 'silent'),
  });
  at = { ...h, relay, port: await relay.start() };
  credentials = new CredentialStore(h.redis, h.prefix, credentialSecretFrom(signingKey.privateKey));
  svc = await startService('S\n');
});

afterAll(async () => {
  await relay?.close();
  subscriber?.disconnect();
  await h?.close();
  await svc?.close();
});

async function mint(serial: string, passwordMode: 'generated' | 'customer' = 'generated') {
  const issued = await issueKey(
    { serial, product: 'sma', ttlMs: 3_600_000, ports: [22], actor: 'test', passwordMode },
    { sessions: h.sessions, signingKey, relay: { host: '127.0.0.1', port: at.port, fingerprint: h.hostKey.fingerprint }, now: () => Date.now() },
  );
  const cred = decodeKey(issued.key).payload.cred!;
  return { sid: issued.session.id, seed: Buffer.from(cred, 'base64url'), key: issued.key };
}

/** An appliance that activated its key and forwards port 22: the session's tunnel. */
async function tunnel(serial: string, passwordMode: 'generated' | 'customer' = 'generated') {
  const m = await mint(serial, passwordMode);
  const app = await connectAppliance(at, { serial, seed: m.seed });
  await forwardPorts(app, { 22: svc.port });
  await waitFor(async () => (await h.sessions.get(m.sid))?.state === 'CONNECTED', 'CONNECTED');
  return { ...m, app };
}

const escrowOf = (password: string, serial: string, sid: string) => encodeEscrowRequest(sealPassword(custody.publicRaw, password, serial, sid));
const send = (client: ssh2.Client, data: Buffer) => sendGlobalRequest(client, ESCROW_REQUEST, data, 5_000);
const stored = (sid: string) => h.redis.get(custodyRedisKey(h.prefix, sid));

describe('password escrow at the relay', () => {
  it('stores the box from the tunnel as received, acknowledges the same box again, refuses another password and keeps the first', async () => {
    const serial = uniqueSerial('ESC');
    const { sid, app } = await tunnel(serial);
    expect(decodeKey((await mint(uniqueSerial('X'))).key).payload.pw).toEqual({ mode: 'escrow' });
    const first = escrowOf('First-Passw0rd-123', serial, sid);

    expect(await send(app.client, first)).toBe('success');
    const atRest = await stored(sid);
    expect(atRest).toMatch(/^\{/);
    expect(atRest).not.toContain('First-Passw0rd-123');
    expect(await credentials.reveal(sid)).toBe('First-Passw0rd-123');

    expect(await send(app.client, first)).toBe('success'); // a re-send after a lost acknowledgement
    expect(await stored(sid)).toBe(atRest);
    expect(await send(app.client, escrowOf('Second-Passw0rd-45', serial, sid))).toBe('failure');
    expect(await stored(sid)).toBe(atRest);
    expect(await credentials.reveal(sid)).toBe('First-Passw0rd-123');

    expect(await auditOf(h, 'credential.escrowed', { sid })).toHaveLength(1);
    const refused = await auditOf(h, 'credential.escrow_refused', { sid });
    expect(refused.map((e) => e.fields.why)).toEqual(['another password is already held for the session']);
    expect(refused[0]!.fields.actor).toBe('relay:escrow-relay');
    expect(JSON.stringify(await h.audit.list())).not.toMatch(/First-Passw0rd|Second-Passw0rd/);
    app.end();
  });

  it('refuses data of the wrong size or shape from the tunnel and stores nothing', async () => {
    const serial = uniqueSerial('ESCSHAPE');
    const { sid, app } = await tunnel(serial);
    const good = escrowOf('Good-Passw0rd-6789', serial, sid);
    expect(await send(app.client, Buffer.concat([good, Buffer.alloc(600)]))).toBe('failure');
    expect(await send(app.client, Buffer.from('not an escrow'))).toBe('failure');
    expect(await send(app.client, good.subarray(0, good.length - 1))).toBe('failure');
    expect(await stored(sid)).toBeNull();
    expect((await auditOf(h, 'credential.escrow_refused', { sid })).map((e) => e.fields.why)).toEqual([
      `data too large (${good.length + 600} bytes)`,
      'data is not one SSH string',
      'data is not one SSH string',
    ]);
    // The tunnel itself was fine all along.
    expect(await send(app.client, good)).toBe('success');
    expect(await credentials.reveal(sid)).toBe('Good-Passw0rd-6789');
    app.end();
  });

  it('refuses an escrow from a login that is not the tunnel, from an engineer, and for a session not minted for escrow', async () => {
    const serial = uniqueSerial('ESCWHO');
    const { sid, seed, app } = await tunnel(serial);
    const data = escrowOf('Forged-Passw0rd-12', serial, sid);

    // The same appliance key, logged in again but forwarding nothing: not the session's tunnel.
    const second = await connectAppliance(at, { serial, seed });
    expect(await send(second.client, data)).toBe('failure');
    second.end();

    const erin = await addEngineer(h, 'erin');
    const engineer = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      engineer.once('ready', () => resolve());
      engineer.once('error', reject);
      engineer.connect({ host: '127.0.0.1', port: at.port, username: 'erin', privateKey: readFileSync(erin.keyFile, 'utf8'), hostVerifier: () => true });
    });
    expect(await send(engineer, data)).toBe('failure');
    engineer.end();
    expect(await stored(sid)).toBeNull();
    expect((await auditOf(h, 'credential.escrow_refused', { sid })).map((e) => e.fields.why)).toEqual(["not from the session's tunnel"]);

    const customerSerial = uniqueSerial('ESCCUST');
    const customer = await tunnel(customerSerial, 'customer');
    expect(await send(customer.app.client, escrowOf('Sneaked-Passw0rd-1', customerSerial, customer.sid))).toBe('failure');
    expect(await stored(customer.sid)).toBeNull();
    expect((await auditOf(h, 'credential.escrow_refused', { sid: customer.sid })).map((e) => e.fields.why)).toEqual(['session was not issued for password escrow']);

    // The live tunnel is untouched by all of it.
    expect(await send(app.client, data)).toBe('success');
    app.end();
    customer.app.end();
  });

  it('answers pipelined requests in order: an escrow waiting on the store and a refused forward behind it', async () => {
    const serial = uniqueSerial('ESCORDER');
    const { sid, app } = await tunnel(serial);
    depositDelayMs = 300;
    try {
      const escrow = send(app.client, escrowOf('Ordered-Passw0rd-1', serial, sid));
      const forward = new Promise<string>((resolve) => app.client.forwardIn('localhost', 3306, (err) => resolve(err ? 'failure' : 'success')));
      expect(await escrow).toBe('success');
      expect(await forward).toBe('failure');
    } finally {
      depositDelayMs = 0;
    }
    expect(await credentials.reveal(sid)).toBe('Ordered-Passw0rd-1');
    app.end();
  });
});

describe('the custody deposit', () => {
  it("takes a box only for a live session minted for escrow, once, with the session's expiry", async () => {
    const serial = uniqueSerial('DEP');
    const { sid } = await mint(serial);
    const box = sealPassword(custody.publicRaw, 'Deposit-Passw0rd-1', serial, sid);
    expect(await deposits.deposit(sid, serial, box, Date.now())).toBe('stored');
    expect(await deposits.deposit(sid, serial, box, Date.now())).toBe('same');
    expect(await deposits.deposit(sid, serial, sealPassword(custody.publicRaw, 'Deposit-Passw0rd-1', serial, sid), Date.now())).toBe('conflict');
    const ttl = await h.redis.pttl(custodyRedisKey(h.prefix, sid));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    const customer = await mint(uniqueSerial('DEPC'), 'customer');
    expect(await deposits.deposit(customer.sid, serial, box, Date.now())).toBe('unexpected');
    expect(await deposits.deposit('no-such-session', serial, box, Date.now())).toBe('closed');
    const closing = await mint(uniqueSerial('DEPX'));
    await h.sessions.close(closing.sid, 'revoked', 'test', Date.now());
    expect(await deposits.deposit(closing.sid, serial, box, Date.now())).toBe('closed');
    expect(await h.redis.exists(custodyRedisKey(h.prefix, closing.sid), custodyRedisKey(h.prefix, customer.sid))).toBe(0);
  });
});
