// Authenticates appliance requests: the Ed25519 signature over method, path, timestamp, nonce and
// body digest (shared/protocol.ts), a timestamp inside the window, and a nonce never seen before.
// Every refusal is a 401 and changes nothing; only a verified request claims its nonce.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { serialSchema } from '../shared/key/tether-key.schema.js';
import { SIGNATURE_WINDOW_S, verifyRequestSignature } from '../shared/protocol.js';
import type { ApplianceRecord, ApplianceStore } from '../shared/store/appliance.store.js';
import { HttpError } from './http-error.js';
import { firstIssue } from '../shared/errors.js';

/** Nonces are kept past both edges of the window, so a replay is refused for as long as it could verify. */
export const NONCE_TTL_MS = (2 * SIGNATURE_WINDOW_S + 30) * 1000;

export interface SignatureDeps {
  appliances: ApplianceStore;
  now: () => number;
}

export function rawBodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** Parses JSON from the raw bytes (after the signature check); 400 with the first problem. */
export function parseJsonBody<T>(schema: z.ZodType<T>, raw: Buffer): T {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_body', 'body is not valid JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new HttpError(400, 'invalid_body', firstIssue(r.error));
  return r.data;
}

export function serialParam(params: unknown): string {
  const r = z.object({ serial: serialSchema }).safeParse(params);
  if (!r.success) throw new HttpError(400, 'invalid_body', 'invalid serial in the path');
  return r.data.serial;
}

/** Verifies a request signed with `signPub` and claims its nonce for `serial`. */
export async function checkSignedRequest(request: FastifyRequest, signPub: Buffer, serial: string, deps: SignatureDeps): Promise<void> {
  const verdict = verifyRequestSignature(signPub, {
    method: request.method,
    path: request.url,
    body: rawBodyOf(request),
    headers: request.headers,
    now: deps.now(),
  });
  if (!verdict.ok) throw new HttpError(401, 'unauthorized', verdict.reason);
  if (!(await deps.appliances.claimNonce(serial, verdict.nonce, NONCE_TTL_MS))) {
    throw new HttpError(401, 'unauthorized', 'request nonce was already used (replayed request)');
  }
}

/** The enrolled appliance that signed this request for the serial in its path. */
export async function authenticateAppliance(request: FastifyRequest, deps: SignatureDeps): Promise<ApplianceRecord> {
  const serial = serialParam(request.params);
  const record = await deps.appliances.get(serial);
  if (!record) throw new HttpError(401, 'unauthorized', `appliance ${serial} is not enrolled: run ktether enroll with a token from support`);
  await checkSignedRequest(request, Buffer.from(record.signPub, 'base64url'), record.serial, deps);
  return record;
}
