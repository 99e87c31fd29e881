// The appliance API contract shared by the agent (client) and the API (server): paths, the
// Ed25519 request signature (method, path, timestamp, nonce, body digest), request and response
// bodies, and which versions may use one-click. Wire-level: the agent imports it.
import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { productSchema, serialSchema, type Product } from './key/tether-key.schema.js';
import { ed25519PublicFromRaw } from './key/sealing.js';

/** Serials hold only [A-Za-z0-9._-], so they go into paths as they are (and `:serial` makes the route). */
export const APPLIANCE_PATHS = {
  enroll: '/v1/appliances/enroll',
  tether: (serial: string) => `/v1/appliances/${serial}/tether`,
  inbox: (serial: string) => `/v1/appliances/${serial}/inbox`,
  version: (serial: string) => `/v1/appliances/${serial}/version`,
} as const;

export const SIGNATURE_HEADERS = {
  timestamp: 'x-tether-timestamp',
  nonce: 'x-tether-nonce',
  signature: 'x-tether-signature',
} as const;

/** Requests whose timestamp is further than this from the server's clock are refused. */
export const SIGNATURE_WINDOW_S = 120;
const SIGNATURE_LABEL = 'KTETHER-REQUEST-V1';
const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;

export interface SignedRequestParts {
  method: string;
  /** Path and query exactly as sent on the wire (`/v1/appliances/SN/inbox`). */
  path: string;
  timestamp: string;
  nonce: string;
  body: Buffer | string;
}

/** The signed bytes: label, method, path, timestamp, nonce and SHA-256 of the body, one per line. */
export function canonicalRequest(p: SignedRequestParts): Buffer {
  const digest = createHash('sha256').update(p.body).digest('hex');
  return Buffer.from([SIGNATURE_LABEL, p.method.toUpperCase(), p.path, p.timestamp, p.nonce, digest].join('\n'));
}

/** Headers for a signed request, made with the appliance's Ed25519 identity key. */
export function signRequest(signKey: KeyObject, req: { method: string; path: string; body: Buffer | string; now: number }): Record<string, string> {
  const timestamp = String(Math.floor(req.now / 1000));
  const nonce = randomBytes(18).toString('base64url');
  const sig = sign(null, canonicalRequest({ ...req, timestamp, nonce }), signKey).toString('base64url');
  return { [SIGNATURE_HEADERS.timestamp]: timestamp, [SIGNATURE_HEADERS.nonce]: nonce, [SIGNATURE_HEADERS.signature]: `ed25519=${sig}` };
}

export type SignatureVerdict = { ok: true; nonce: string } | { ok: false; reason: string };

/** Checks header shapes, the signature against `signPubRaw`, then the time window. Never throws. */
export function verifyRequestSignature(
  signPubRaw: Buffer,
  req: { method: string; path: string; body: Buffer; headers: Readonly<Record<string, string | string[] | undefined>>; now: number },
): SignatureVerdict {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const timestamp = header(SIGNATURE_HEADERS.timestamp);
  const nonce = header(SIGNATURE_HEADERS.nonce);
  const m = /^ed25519=([A-Za-z0-9_-]{86})$/.exec(header(SIGNATURE_HEADERS.signature) ?? '');
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `missing or invalid ${SIGNATURE_HEADERS.timestamp}` };
  if (!nonce || !NONCE_RE.test(nonce)) return { ok: false, reason: `missing or invalid ${SIGNATURE_HEADERS.nonce}` };
  if (!m) return { ok: false, reason: `missing or invalid ${SIGNATURE_HEADERS.signature}` };
  let good = false;
  try {
    const canonical = canonicalRequest({ method: req.method, path: req.path, timestamp, nonce, body: req.body });
    good = verify(null, canonical, ed25519PublicFromRaw(signPubRaw), Buffer.from(m[1]!, 'base64url'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'request signature does not verify' };
  if (Math.abs(Number(timestamp) - req.now / 1000) > SIGNATURE_WINDOW_S) {
    return { ok: false, reason: `request timestamp is more than ${SIGNATURE_WINDOW_S} s from the server's clock` };
  }
  return { ok: true, nonce };
}

// ── versions ─────────────────────────────────────────────────────────────────────────────────

export const ONE_CLICK_MIN_VERSION: Record<Product, string> = { sma: '10.2', sda: '6.1' };

/** Numeric, part by part (`10.10` > `10.2`); missing parts count as 0; anything after digits is ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split('.').map((p) => Number(/^\d+/.exec(p)?.[0] ?? '0'));
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function supportsOneClick(product: Product, version: string): boolean {
  return compareVersions(version, ONE_CLICK_MIN_VERSION[product]) >= 0;
}

/** Why one-click is refused, and what to do instead: the key flow. */
export function oneClickRefusal(product: Product, version: string): string {
  const p = product.toUpperCase();
  return (
    `one-click needs ${p} ${ONE_CLICK_MIN_VERSION[product]} or later (this appliance runs ${p} ${version}): ` +
    'ask support to issue a tether key for this serial, then enable it with ktether enable --key KEY'
  );
}

// ── bodies ───────────────────────────────────────────────────────────────────────────────────

/** Same shape as a session's ticket ref; repeated so the agent needs nothing from session/. */
const ticketRefSchema = z.object({ system: z.string().min(1).max(32), id: z.string().min(1).max(128) });
const rawKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url raw 32-byte key');
const version = z.string().min(1).max(32);

export const enrolRequestSchema = z.object({
  token: z.string().min(16).max(128),
  serial: serialSchema,
  product: productSchema,
  version,
  /** base64url raw Ed25519 public key: verifies this appliance's request signatures. */
  signPub: rawKey,
  /** base64url raw X25519 public key: keys for this appliance are sealed to it. */
  sealPub: rawKey,
});
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;
export const enrolResponseSchema = z.object({ serial: serialSchema, product: productSchema, version, enrolledAt: z.string() });

export const tetherRequestSchema = z.object({
  description: z.string().trim().min(1).max(4_000),
  /**
   * `customer`: the customer sets the support password on the appliance (it never travels).
   * `escrow`: the appliance generates it and sends it sealed to the vendor's custody key once
   * connected (current agents). `generated` (older agents): generated by the server, sealed in the key.
   */
  passwordMode: z.enum(['generated', 'customer', 'escrow']).default('generated'),
});
export type TetherRequest = z.input<typeof tetherRequestSchema>;
export const tetherResponseSchema = z.object({
  key: z.string().min(1),
  session: z.object({ id: z.string(), expiresAt: z.string() }),
  ticket: ticketRefSchema,
  ticketCreated: z.boolean(),
});
export type TetherResponse = z.infer<typeof tetherResponseSchema>;

export const versionReportSchema = z.object({ version });

export const inboxEntrySchema = z.object({
  sid: z.string(),
  key: z.string(),
  issuedAt: z.string(),
  expiresAt: z.string(),
  ticket: ticketRefSchema.optional(),
});
export type InboxEntryView = z.infer<typeof inboxEntrySchema>;
export const inboxResponseSchema = z.object({ keys: z.array(inboxEntrySchema) });

export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
