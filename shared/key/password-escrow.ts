// Password escrow on the wire: the agent generates the support password on the appliance and seals
// it to the vendor's custody X25519 key named in the signed key (ephemeral X25519 → HKDF-SHA256 →
// AES-256-GCM, as sealed keys, under its own HKDF info; serial and session bound as AAD). The relay
// checks the shape and stores the box as it is: only the custody private key opens it. Wire-level.
import { randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { openBox, sealTo } from './sealing.js';

/** SSH global request (want-reply) on the tunnel connection; its data is one SSH string: the box as JSON. */
export const ESCROW_REQUEST = 'escrow-password@tether';
/** Largest request data the relay reads (a real one is about 300 bytes). */
export const MAX_ESCROW_DATA = 512;

const ESCROW_INFO = Buffer.from('KT1 password escrow v1');
const MAX_PASSWORD_BYTES = 128;

/** base64url (no padding) of exactly `bytes` bytes. */
const b64Of = (bytes: number) => z.string().length(Math.ceil((bytes * 4) / 3)).regex(/^[A-Za-z0-9_-]+$/);

export const escrowBoxSchema = z
  .object({
    v: z.literal(1),
    epk: b64Of(32),
    iv: b64Of(12),
    tag: b64Of(16),
    // 8 to 128 bytes of password (GCM: ciphertext as long as the plaintext).
    ct: z.string().min(11).max(171).regex(/^[A-Za-z0-9_-]+$/),
  })
  .strict();
export type EscrowBox = z.infer<typeof escrowBoxSchema>;

/** Additional data: a box escrowed for one appliance and session never opens as another's. */
export function escrowContext(serial: string, sid: string): string {
  return `KT1-ESCROW|${serial.toUpperCase()}|${sid}`;
}

export function generatePassword(): string {
  // 20 characters from an unambiguous alphabet: ~115 bits.
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) {
    if (b >= 4 * alphabet.length) continue; // rejection sampling keeps the draw uniform
    out += alphabet[b % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

export function sealPassword(custodyRaw: Buffer, password: string, serial: string, sid: string): EscrowBox {
  const plain = Buffer.from(password, 'utf8');
  if (plain.length < 8 || plain.length > MAX_PASSWORD_BYTES) throw new AppError('usage', 'an escrowed password has 8 to 128 bytes');
  return escrowBoxSchema.parse({ v: 1, ...sealTo(custodyRaw, plain, escrowContext(serial, sid), ESCROW_INFO) });
}

/** The password; throws `internal` when the box was sealed to another custody key, session or serial. */
export function openPassword(box: EscrowBox, custodyKey: KeyObject, serial: string, sid: string): string {
  try {
    return openBox(box, custodyKey, escrowContext(serial, sid), ESCROW_INFO).toString('utf8');
  } catch (cause) {
    throw new AppError('internal', `escrowed password of session ${sid} does not open with this custody key`, { cause });
  }
}

/** The request data: one SSH string (uint32 length, then the bytes) holding the box as JSON. */
export function encodeEscrowRequest(box: EscrowBox): Buffer {
  const json = Buffer.from(JSON.stringify(escrowBoxSchema.parse(box)));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json]);
}

/** Reads request data back, refusing anything but exactly one well-formed box. */
export function decodeEscrowRequest(data: unknown): { ok: true; box: EscrowBox } | { ok: false; why: string } {
  if (!Buffer.isBuffer(data) || data.length < 4) return { ok: false, why: 'no data' };
  if (data.length > MAX_ESCROW_DATA) return { ok: false, why: `data too large (${data.length} bytes)` };
  if (data.readUInt32BE(0) !== data.length - 4) return { ok: false, why: 'data is not one SSH string' };
  let json: unknown;
  try {
    json = JSON.parse(data.subarray(4).toString('utf8'));
  } catch {
    return { ok: false, why: 'data is not JSON' };
  }
  const parsed = escrowBoxSchema.safeParse(json);
  return parsed.success ? { ok: true, box: parsed.data } : { ok: false, why: 'data is not an escrow box' };
}
