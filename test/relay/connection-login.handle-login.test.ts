// One connection's login on the in-memory stores: engineers by their registered keys, appliances by
// the key rules, every other method refused, and a reused key audited once per connection.
import { beforeEach, describe, expect, it } from 'vitest';
import { handleLogin, type Identity } from '../../relay/connection-login.js';
import { openSshPublicLine } from '../../shared/ssh-keys.js';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { attempt, fakeConnection, keyPair, memoryRelay, type KeyPair } from './relay-login.fakes.js';

const T0 = 1_700_000_000_000;
let relay: ReturnType<typeof memoryRelay>;
let alice: KeyPair;

beforeEach(async () => {
  relay = memoryRelay(T0);
  alice = keyPair();
  await relay.engineers.addKey('alice', { ...parseEngineerKey(openSshPublicLine(alice.raw, 'alice@vendor')), expiresAt: T0 + 60_000 }, 'test', T0);
});

function connect() {
  const conn = fakeConnection();
  const identities: Identity[] = [];
  handleLogin(conn, '192.0.2.7', relay.deps, (id) => identities.push(id));
  return { conn, identities };
}

describe('relay login', () => {
  it('authenticates an engineer with a registered key, and refuses other keys and an expired one', async () => {
    const ok = connect();
    expect(await ok.conn.login(attempt('alice', alice, { query: true }))).toBe('accept');
    expect(ok.identities).toEqual([]); // a query authenticates nothing
    expect(await ok.conn.login(attempt('alice', alice))).toBe('accept');
    expect(ok.identities).toEqual([{ kind: 'engineer', name: 'alice', fingerprint: expect.stringMatching(/^SHA256:/) }]);

    const other = connect();
    expect(await other.conn.login(attempt('alice', keyPair()))).toBe('reject');
    relay.clock.now = T0 + 60_000;
    expect(await other.conn.login(attempt('alice', alice))).toBe('reject');
    expect(other.identities).toEqual([]);
  });

  it('refuses a reused key and audits the reuse once per connection', async () => {
    const credential = keyPair();
    await relay.sessions.create({ id: 's-login-001', jti: 'j-login-001', serial: 'K1000-LOGIN', product: 'sma', ports: [22], tunnelPub: credential.raw, issuedAt: T0, expiresAt: T0 + 3_600_000 }, 'op');
    const first = connect();
    expect(await first.conn.login(attempt('K1000-LOGIN', credential))).toBe('partial');
    expect(await first.conn.login(attempt('K1000-LOGIN', keyPair()))).toBe('accept');
    expect(first.identities).toMatchObject([{ kind: 'appliance', sid: 's-login-001', activated: true }]);

    const second = connect();
    expect(await second.conn.login(attempt('K1000-LOGIN', credential))).toBe('reject');
    expect(await second.conn.login(attempt('K1000-LOGIN', credential))).toBe('reject');
    await expect.poll(async () => (await relay.audit.list()).filter((e) => e.type === 'key.reuse_refused').map((e) => e.fields)).toEqual([
      { sid: 's-login-001', serial: 'K1000-LOGIN', ip: '192.0.2.7', reason: 'key already used', actor: 'relay:r1' },
    ]);
    expect(second.identities).toEqual([]);
  });

  it('refuses every method but public keys', async () => {
    const { conn } = connect();
    let answer: string | undefined;
    conn.emit('authentication', { method: 'password', username: 'alice', password: 'x', reject: () => (answer = 'reject'), accept: () => (answer = 'accept') });
    expect(answer).toBe('reject');
  });
});
