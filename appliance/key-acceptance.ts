// Decides whether this appliance accepts a tether key: signature against the vendor key(s), serial,
// validity window, the local used list, then the secrets: in the clear (bearer key) or sealed to
// this appliance's enrolled X25519 identity; and the support password (from the key, the customer,
// or generated here and sealed for escrow). Pure apart from the injected used-list look-up; every
// refusal is an AppError whose message is the one-line reason.
import type { KeyObject } from 'node:crypto';
import { AppError } from '../shared/errors.js';
import { verifyKey, type TrustedSigners } from '../shared/key/key-codec.js';
import { generatePassword, sealPassword, type EscrowBox } from '../shared/key/password-escrow.js';
import { openSecrets, sealContext } from '../shared/key/sealing.js';
import type { PasswordSpec, TetherKeyPayload } from '../shared/key/tether-key.schema.js';

export interface AcceptOptions {
  signers: TrustedSigners;
  serial: string;
  isUsed: (jti: string) => boolean;
  now?: Date;
  /** The enrolled identity's X25519 private key; sealed keys open only with the right one. */
  sealKey?: KeyObject | undefined;
}

export interface AcceptedKey {
  payload: TetherKeyPayload;
  /** Ed25519 seed of the tunnel credential. */
  seed: Buffer;
  /** Support password mode (and value, when generated), from the clear or the sealed part. */
  pw: PasswordSpec | undefined;
  sealed: boolean;
}

export function acceptKey(text: string, opts: AcceptOptions): AcceptedKey {
  const payload = verifyKey(text, { signers: opts.signers, serial: opts.serial, ...(opts.now ? { now: opts.now } : {}) });
  if (opts.isUsed(payload.jti)) throw new AppError('key_already_used', 'key already used');
  let cred = payload.cred;
  let pw = payload.pw;
  if (payload.sealed) {
    if (!opts.sealKey) {
      throw new AppError('key_sealed_elsewhere', 'key is sealed to an enrolled appliance identity, and this appliance holds none (run ktether enroll)');
    }
    ({ cred, pw } = openSecrets(payload.sealed, opts.sealKey, sealContext(payload.serial, payload.jti)));
  }
  if (!cred) throw new AppError('key_malformed', 'key is malformed: it carries no tunnel credential');
  const seed = Buffer.from(cred, 'base64url');
  if (seed.length !== 32) throw new AppError('key_malformed', 'key is malformed: tunnel credential has the wrong length');
  return { payload, seed, pw, sealed: payload.sealed !== undefined };
}

export const MIN_PASSWORD_LENGTH = 8;

export interface SupportPassword {
  password: string;
  /** Set when the password was generated here for an escrow key: the box the daemon sends once connected. */
  escrow: EscrowBox | undefined;
}

/**
 * The support account's password: the customer's if given (never escrowed: the vendor is not told
 * it); else the one in the key (sealed keys, older bearer keys); else, for an escrow key, a fresh one
 * generated here and sealed to the key's custody public key, bound to serial and session.
 */
export function supportPassword(
  pw: PasswordSpec | undefined,
  customer: string | undefined,
  key?: Pick<TetherKeyPayload, 'serial' | 'sid' | 'custody'>,
  generate: () => string = generatePassword,
): SupportPassword {
  if (customer !== undefined) {
    if (customer.length < MIN_PASSWORD_LENGTH || /[\n\r]/.test(customer)) {
      throw new AppError('usage', `--password must have at least ${MIN_PASSWORD_LENGTH} characters and no line breaks`);
    }
    return { password: customer, escrow: undefined };
  }
  if (pw?.mode === 'generated') return { password: pw.value, escrow: undefined };
  if (pw?.mode === 'escrow') {
    const custody = key?.custody ? Buffer.from(key.custody, 'base64url') : undefined;
    if (!key || !custody || custody.length !== 32) throw new AppError('key_malformed', 'key is malformed: it asks for password escrow but names no custody key');
    const password = generate();
    return { password, escrow: sealPassword(custody, password, key.serial, key.sid) };
  }
  throw new AppError('usage', 'this key lets the customer choose the support password: give --password PW');
}
