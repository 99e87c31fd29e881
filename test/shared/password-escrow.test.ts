// Password escrow, pure: the box round trip (only the custody key opens it, only for its serial and
// session), the request data codec and its limits, the custody key derivation, and the agent's
// choice of support password for escrow keys, older keys and a customer's own.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { supportPassword } from '../../appliance/key-acceptance.js';
import { isAppError } from '../../shared/errors.js';
import {
  decodeEscrowRequest,
  encodeEscrowRequest,
  generatePassword,
  MAX_ESCROW_DATA,
  openPassword,
  sealPassword,
} from '../../shared/key/password-escrow.js';
import { credentialSecretFrom, custodyKeyFrom } from '../../shared/store/credential.store.js';

const signing = generateKeyPairSync('ed25519').privateKey;
const custody = custodyKeyFrom(credentialSecretFrom(signing));
const SERIAL = 'K1000-ESC';
const SID = 'sid-0000000000001';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('an escrow box', () => {
  const password = generatePassword();
  const box = sealPassword(custody.publicRaw, password, SERIAL, SID);

  it('opens with the custody key to the password it was sealed with, serial compared case-insensitively', () => {
    expect(openPassword(box, custody.privateKey, SERIAL, SID)).toBe(password);
    expect(openPassword(box, custody.privateKey, SERIAL.toLowerCase(), SID)).toBe(password);
  });

  it('opens with nothing else: another custody key, serial or session, or a changed byte', () => {
    const other = custodyKeyFrom(credentialSecretFrom(generateKeyPairSync('ed25519').privateKey));
    expect(codeOf(() => openPassword(box, other.privateKey, SERIAL, SID))).toBe('internal');
    expect(codeOf(() => openPassword(box, custody.privateKey, 'K1000-OTHER', SID))).toBe('internal');
    expect(codeOf(() => openPassword(box, custody.privateKey, SERIAL, 'sid-0000000000002'))).toBe('internal');
    const ct = Buffer.from(box.ct, 'base64url');
    ct[0]! ^= 1;
    expect(codeOf(() => openPassword({ ...box, ct: ct.toString('base64url') }, custody.privateKey, SERIAL, SID))).toBe('internal');
  });

  it('never carries the password in the clear, and differs every time it is sealed', () => {
    expect(JSON.stringify(box)).not.toContain(password);
    expect(sealPassword(custody.publicRaw, password, SERIAL, SID).ct).not.toBe(box.ct);
  });

  it('travels as one SSH string, and the relay reads back exactly the box', () => {
    const data = encodeEscrowRequest(box);
    expect(data.length).toBeLessThan(MAX_ESCROW_DATA);
    expect(decodeEscrowRequest(data)).toEqual({ ok: true, box });
  });

  it('is refused by the relay when the data is too large, not one string, not JSON or not a box', () => {
    const json = (value: unknown) => {
      const body = Buffer.from(JSON.stringify(value));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      return Buffer.concat([len, body]);
    };
    expect(decodeEscrowRequest(Buffer.alloc(MAX_ESCROW_DATA + 1))).toMatchObject({ ok: false, why: expect.stringMatching(/too large/) });
    expect(decodeEscrowRequest(Buffer.from('{"v":1}'))).toMatchObject({ ok: false });
    expect(decodeEscrowRequest(Buffer.concat([encodeEscrowRequest(box), Buffer.from('x')]))).toMatchObject({ ok: false, why: 'data is not one SSH string' });
    expect(decodeEscrowRequest(json({ ...box, extra: 1 }))).toMatchObject({ ok: false, why: 'data is not an escrow box' });
    expect(decodeEscrowRequest(json({ ...box, iv: 'AAAA' }))).toMatchObject({ ok: false, why: 'data is not an escrow box' });
    expect(decodeEscrowRequest('not a buffer')).toMatchObject({ ok: false });
  });
});

describe('the custody key', () => {
  it('is derived from the signing key: the same key every time, another for another signing key', () => {
    expect(custodyKeyFrom(credentialSecretFrom(signing)).publicRaw.equals(custody.publicRaw)).toBe(true);
    expect(custodyKeyFrom(credentialSecretFrom(generateKeyPairSync('ed25519').privateKey)).publicRaw.equals(custody.publicRaw)).toBe(false);
    expect(custody.publicRaw).toHaveLength(32);
  });
});

describe('the support password the agent sets', () => {
  const key = { serial: SERIAL, sid: SID, custody: custody.publicRaw.toString('base64url') };

  it('escrow key: generated on the appliance and sealed to the custody key named in the key', () => {
    const chosen = supportPassword({ mode: 'escrow' }, undefined, key);
    expect(chosen.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(openPassword(chosen.escrow!, custody.privateKey, SERIAL, SID)).toBe(chosen.password);
    expect(supportPassword({ mode: 'escrow' }, undefined, key).password).not.toBe(chosen.password);
  });

  it('escrow key without a custody key is malformed', () => {
    expect(codeOf(() => supportPassword({ mode: 'escrow' }, undefined, { serial: SERIAL, sid: SID }))).toBe('key_malformed');
    expect(codeOf(() => supportPassword({ mode: 'escrow' }, undefined, { ...key, custody: 'A'.repeat(40) }))).toBe('key_malformed');
  });

  it('older key with the password in it: that password, nothing escrowed', () => {
    expect(supportPassword({ mode: 'generated', value: 'Generated-Passw0rd-1' }, undefined, key)).toEqual({ password: 'Generated-Passw0rd-1', escrow: undefined });
  });

  it("the customer's own password: used, never escrowed, whatever the key says", () => {
    expect(supportPassword({ mode: 'escrow' }, 'chosen-by-customer', key)).toEqual({ password: 'chosen-by-customer', escrow: undefined });
    expect(codeOf(() => supportPassword({ mode: 'customer' }, undefined, key))).toBe('usage');
  });
});
