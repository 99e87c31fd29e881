// The relay's appliance login rules on the in-memory stores (no Redis, no sockets): a key's tunnel
// credential is used once, only by its serial, only before expiry and only while the session lives;
// the second step binds the appliance's own key, which alone serves every reconnect.
import { beforeEach, describe, expect, it } from 'vitest';
import { ApplianceLogin } from '../../relay/appliance-auth.js';
import { attempt, keyPair, memoryRelay, type KeyPair } from './relay-login.fakes.js';

const T0 = 1_700_000_000_000;
const SERIAL = 'K1000-UNIT';

let relay: ReturnType<typeof memoryRelay>;
let credential: KeyPair;
const sid = 's-unit-0001';

beforeEach(async () => {
  relay = memoryRelay(T0);
  credential = keyPair();
  await relay.sessions.create({ id: sid, jti: 'j-unit-0001', serial: SERIAL, product: 'sma', ports: [22, 443], tunnelPub: credential.raw, issuedAt: T0, expiresAt: T0 + 3_600_000 }, 'op');
});

/** A full first login on a new connection: the key credential, then the appliance's own key. */
async function activate(applianceKey = keyPair(), serial = SERIAL) {
  const login = new ApplianceLogin(relay.deps);
  const first = await login.decide(attempt(serial, credential));
  const second = await login.decide(attempt(serial, applianceKey));
  return { first, second, applianceKey };
}

const transitions = async () => (await relay.audit.list()).filter((e) => e.fields.sid === sid).map((e) => e.type);

describe('appliance login', () => {
  it('proves the key credential, then activates the session and binds the appliance key in the second step', async () => {
    const { first, second, applianceKey } = await activate();
    expect(first).toEqual({ kind: 'partial' });
    expect(second).toEqual({ kind: 'accept', identity: { kind: 'appliance', sid, serial: SERIAL, ports: [22, 443], expiresAt: T0 + 3_600_000, activated: true } });
    expect(await relay.sessions.get(sid)).toMatchObject({ state: 'CONNECTED', relayId: 'r1', appliancePub: applianceKey.raw.toString('base64') });
    expect(await transitions()).toEqual(['session.issued', 'session.activated']);
    expect((await relay.audit.list()).at(-1)?.fields.actor).toBe('relay:r1');
  });

  it('answers a query of the key credential without using it', async () => {
    const login = new ApplianceLogin(relay.deps);
    expect(await login.decide(attempt(SERIAL, credential, { query: true }))).toEqual({ kind: 'partial' });
    // A query never proves: the appliance key that follows is not bound.
    expect(await login.decide(attempt(SERIAL, keyPair()))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/no session for this tunnel key/) });
    expect((await relay.sessions.get(sid))?.state).toBe('ISSUED');
    expect(await transitions()).toEqual(['session.issued']);
  });

  it('refuses the key credential once used, from any machine, as a reuse to audit', async () => {
    await activate();
    const again = await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, credential));
    expect(again).toEqual({ kind: 'refuse', reason: expect.stringMatching(/already used/), tell: 'keyAlreadyUsed', reuse: { sid, serial: SERIAL } });
    expect((await relay.sessions.get(sid))?.state).toBe('CONNECTED');
  });

  it('lets exactly one of two machines racing one key bind; the other hears the key was used', async () => {
    const [a, b] = [new ApplianceLogin(relay.deps), new ApplianceLogin(relay.deps)];
    expect(await a.decide(attempt(SERIAL, credential))).toEqual({ kind: 'partial' });
    expect(await b.decide(attempt(SERIAL, credential))).toEqual({ kind: 'partial' });
    const [ra, rb] = await Promise.all([a.decide(attempt(SERIAL, keyPair())), b.decide(attempt(SERIAL, keyPair()))]);
    expect([ra.kind, rb.kind].sort()).toEqual(['accept', 'refuse']);
    expect([ra, rb].find((r) => r.kind === 'refuse')).toMatchObject({ tell: 'keyAlreadyUsed', reuse: { sid, serial: SERIAL } });
    expect((await transitions()).filter((t) => t === 'session.activated')).toHaveLength(1);
  });

  it('accepts a reconnect with the bound appliance key alone, and refuses a new key pair that equals the credential', async () => {
    const { applianceKey } = await activate();
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL.toLowerCase(), applianceKey))).toMatchObject({ kind: 'accept', identity: { sid, activated: false } });
    const login = new ApplianceLogin(relay.deps);
    const other = keyPair();
    await relay.sessions.create({ id: 's-unit-0002', jti: 'j-unit-0002', serial: 'K1000-OTHER', product: 'sda', ports: [22], tunnelPub: other.raw, issuedAt: T0, expiresAt: T0 + 60_000 }, 'op');
    expect(await login.decide(attempt('K1000-OTHER', other))).toEqual({ kind: 'partial' });
    expect(await login.decide(attempt('K1000-OTHER', other))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/must be a new key pair/) });
    expect((await relay.sessions.get('s-unit-0002'))?.state).toBe('ISSUED');
  });

  it('refuses a key presented under another serial and changes nothing', async () => {
    const r = await new ApplianceLogin(relay.deps).decide(attempt('K1000-WRONG', credential));
    expect(r).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/belongs to another serial/) });
    expect(r).not.toHaveProperty('tell');
    expect((await relay.sessions.get(sid))?.state).toBe('ISSUED');
    expect(await transitions()).toEqual(['session.issued']);
  });

  it('refuses an expired key and closes its session as expired', async () => {
    relay.clock.now = T0 + 3_600_000;
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, credential))).toMatchObject({ kind: 'refuse', tell: 'keyExpired' });
    expect(await relay.sessions.get(sid)).toMatchObject({ state: 'CLOSED', reason: 'expired' });
    expect(await transitions()).toEqual(['session.issued', 'session.closed']);
    // A second attempt finds it closed.
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, credential))).toMatchObject({ kind: 'refuse', tell: 'sessionClosed' });
  });

  it('refuses both keys of a closed session, and a session closed between the two steps', async () => {
    const { applianceKey } = await activate();
    await relay.sessions.close(sid, 'customer_disabled', 'appliance', T0 + 10);
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, applianceKey))).toMatchObject({ kind: 'refuse', tell: 'sessionClosed', reason: expect.stringMatching(/customer_disabled/) });

    const late = keyPair();
    await relay.sessions.create({ id: 's-unit-0003', jti: 'j-unit-0003', serial: 'K1000-LATE', product: 'sma', ports: [22], tunnelPub: late.raw, issuedAt: T0, expiresAt: T0 + 60_000 }, 'op');
    const login = new ApplianceLogin(relay.deps);
    expect(await login.decide(attempt('K1000-LATE', late))).toEqual({ kind: 'partial' });
    await relay.sessions.close('s-unit-0003', 'revoked', 'op', T0 + 20);
    expect(await login.decide(attempt('K1000-LATE', keyPair()))).toMatchObject({ kind: 'refuse', tell: 'sessionClosed' });
  });

  it('refuses unknown keys, other algorithms and signatures that do not verify', async () => {
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, keyPair()))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/no session/) });
    expect(await new ApplianceLogin(relay.deps).decide(attempt(SERIAL, credential, { signWith: keyPair() }))).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/signature does not verify/) });
    const rsa = attempt(SERIAL, credential);
    rsa.key.algo = 'ssh-rsa';
    expect(await new ApplianceLogin(relay.deps).decide(rsa)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/must be ssh-ed25519/) });
    expect(await transitions()).toEqual(['session.issued']);
  });
});
