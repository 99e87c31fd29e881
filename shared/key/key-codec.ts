// Encodes, signs, parses and verifies tether keys: `KT1.<base64url payload>.<base64url Ed25519
// signature over "KT1.<payload>">`. Whitespace anywhere is ignored on input (mail clients wrap).
// Wire-level: used by the agent; every refusal is an AppError with a key_* code.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { AppError } from '../errors.js';
import { tetherKeyPayloadSchema, type TetherKeyPayload } from './tether-key.schema.js';

export const KEY_PREFIX = 'KT1';
/** Clock skew tolerated between orchestrator and appliance for `iat`. */
export const NOT_BEFORE_SKEW_S = 300;

/** Trusted signers by key id. */
export type TrustedSigners = ReadonlyMap<string, KeyObject>;

/** Key id of an Ed25519 public key: first 16 hex digits of SHA-256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function encodeKey(payload: TetherKeyPayload, signingKey: KeyObject): string {
  const body = Buffer.from(JSON.stringify(tetherKeyPayloadSchema.parse(payload))).toString('base64url');
  const signed = `${KEY_PREFIX}.${body}`;
  const sig = sign(null, Buffer.from(signed), signingKey).toString('base64url');
  return `${signed}.${sig}`;
}

/** Strips whitespace and checks the outer shape; does not verify. */
export function decodeKey(text: string): { payload: TetherKeyPayload; signed: string; signature: Buffer } {
  const compact = text.replace(/\s+/g, '');
  const parts = compact.split('.');
  if (parts.length !== 3 || parts[0] !== KEY_PREFIX || !parts[1] || !parts[2]) {
    throw new AppError('key_malformed', 'key is malformed: expected KT1.<payload>.<signature>');
  }
  const b64 = /^[A-Za-z0-9_-]+$/;
  if (!b64.test(parts[1]) || !b64.test(parts[2])) throw new AppError('key_malformed', 'key is malformed: invalid characters');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new AppError('key_malformed', 'key is malformed: payload is not valid JSON');
  }
  const parsed = tetherKeyPayloadSchema.safeParse(json);
  if (!parsed.success) throw new AppError('key_malformed', 'key is malformed: payload fields are invalid');
  return { payload: parsed.data, signed: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

export interface VerifyOptions {
  signers: TrustedSigners;
  /** The appliance's own serial; the key must name it (case-insensitive). */
  serial?: string;
  now?: Date;
}

/** Full verification, in a fixed order so the reason is stable: shape, signer, signature, serial, time. */
export function verifyKey(text: string, opts: VerifyOptions): TetherKeyPayload {
  const { payload, signed, signature } = decodeKey(text);
  const signer = opts.signers.get(payload.kid);
  if (!signer) throw new AppError('key_unknown_signer', `key is signed by an unknown signer (kid ${payload.kid})`);
  if (signature.length !== 64 || !verify(null, Buffer.from(signed), signer, signature)) {
    throw new AppError('key_bad_signature', 'key signature is invalid: the key was altered or damaged');
  }
  if (opts.serial !== undefined && payload.serial.toUpperCase() !== opts.serial.toUpperCase()) {
    throw new AppError('key_wrong_serial', `key is for serial ${payload.serial}, not this appliance (${opts.serial})`);
  }
  const nowS = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (payload.iat - NOT_BEFORE_SKEW_S > nowS) throw new AppError('key_not_yet_valid', `key is not valid before ${new Date(payload.iat * 1000).toISOString()}`);
  if (nowS >= payload.exp) throw new AppError('key_expired', `key expired at ${new Date(payload.exp * 1000).toISOString()}`);
  return payload;
}
