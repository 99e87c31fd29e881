// Signed appliance requests made by hand, as a test needs them: with an identity's key or another,
// with the body altered after signing, with a chosen clock, or replayed byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { privateKeyFromPem } from '../../../shared/key/sealing.js';
import { signRequest } from '../../../shared/protocol.js';

export interface SentRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface Answer {
  status: number;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}

export function signed(signKey: KeyObject, method: SentRequest['method'], path: string, body: unknown, now = Date.now()): SentRequest {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { method, path, body: text, headers: signRequest(signKey, { method, path, body: text, now }) };
}

export async function send(apiUrl: string, req: SentRequest): Promise<Answer> {
  const res = await fetch(`${apiUrl}${req.path}`, {
    method: req.method,
    headers: { ...req.headers, ...(req.body ? { 'content-type': 'application/json' } : {}) },
    ...(req.body ? { body: req.body } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** The Ed25519 signing key a `ktether enroll` wrote into an appliance home. */
export function identitySignKey(home: string): KeyObject {
  const identity = JSON.parse(readFileSync(join(home, 'identity.json'), 'utf8')) as { signKey: string };
  return privateKeyFromPem(identity.signKey, 'ed25519');
}

/** The payload of a KT1 key (no verification). */
export function payloadOf(key: string): Record<string, unknown> & { sid: string; jti: string } {
  return JSON.parse(Buffer.from(key.replace(/\s+/g, '').split('.')[1]!, 'base64url').toString('utf8'));
}
