// Decides whether this appliance accepts a pasted tether key: signature against the vendor key(s),
// serial, validity window, the local used list, and an unsealed credential. Pure apart from the
// injected used-list look-up; every refusal is an AppError whose message is the one-line reason.
import { AppError } from '../shared/errors.js';
import { verifyKey, type TrustedSigners } from '../shared/key/key-codec.js';
import type { TetherKeyPayload } from '../shared/key/tether-key.schema.js';

export interface AcceptOptions {
  signers: TrustedSigners;
  serial: string;
  isUsed: (jti: string) => boolean;
  now?: Date;
}

export interface AcceptedKey {
  payload: TetherKeyPayload;
  /** Ed25519 seed of the tunnel credential. */
  seed: Buffer;
}

export function acceptKey(text: string, opts: AcceptOptions): AcceptedKey {
  const payload = verifyKey(text, { signers: opts.signers, serial: opts.serial, ...(opts.now ? { now: opts.now } : {}) });
  if (opts.isUsed(payload.jti)) throw new AppError('key_already_used', 'key already used');
  if (!payload.cred) {
    throw new AppError('key_sealed_elsewhere', 'key is sealed to an enrolled appliance identity, and this appliance holds none (run ktether enroll)');
  }
  const seed = Buffer.from(payload.cred, 'base64url');
  if (seed.length !== 32) throw new AppError('key_malformed', 'key is malformed: tunnel credential has the wrong length');
  return { payload, seed };
}

export const MIN_PASSWORD_LENGTH = 8;

/** The support account's password: the customer's if given, else the one generated into the key. */
export function supportPassword(payload: TetherKeyPayload, customer: string | undefined): string {
  if (customer !== undefined) {
    if (customer.length < MIN_PASSWORD_LENGTH || /[\n\r]/.test(customer)) {
      throw new AppError('usage', `--password must have at least ${MIN_PASSWORD_LENGTH} characters and no line breaks`);
    }
    return customer;
  }
  if (payload.pw?.mode === 'generated') return payload.pw.value;
  throw new AppError('usage', 'this key lets the customer choose the support password: give --password PW');
}
