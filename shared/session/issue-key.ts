// Mints a tether key and its ISSUED session in one step: the single path used by the operator
// CLI, the key-issue worker and one-click. Enforces the 12-week cap and the product's ports; seals
// credential and password to an enrolled appliance and keeps that password in custody; for any other
// appliance mints an escrow key (no password: the appliance makes one and escrows it sealed to the
// custody key); places keys for enrolled appliances in their inbox (push).
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { checkTtl } from '../duration.js';
import { AppError, isAppError } from '../errors.js';
import { isMailAddress } from '../mail/mail-address.js';
import { encodeKey } from '../key/key-codec.js';
import type { SigningKey } from '../key/key-files.js';
import { generatePassword } from '../key/password-escrow.js';
import { sealContext, sealSecrets } from '../key/sealing.js';
import { DEFAULT_PORTS, serialSchema, type PasswordSpec, type Product, type TetherKeyPayload } from '../key/tether-key.schema.js';
import { generateSeedPair } from '../ssh-keys.js';
import type { ApplianceStore } from '../store/appliance.store.js';
import { credentialSecretFrom, custodyKeyFrom, type CredentialStore } from '../store/credential.store.js';
import type { SessionStore } from '../store/session.store.js';
import type { SessionRecord, TicketRef } from './session.schema.js';

/** What keys say about the relays: the first one (host, port), the fleet's host-key fingerprint and, when there are several, every relay in order. */
export interface KeyRelays {
  host: string;
  port: number;
  fingerprint: string;
  /** Every relay of the fleet, in order (TETHER_RELAY_ENDPOINTS; the first is host:port); they share the host key. */
  fleet?: readonly { host: string; port: number }[] | undefined;
  /** `serial`: each key's list starts at a relay picked by the appliance's serial (TETHER_RELAY_ORDER), so agents spread without a load balancer. */
  order?: 'ordered' | 'serial' | undefined;
}

export interface IssueRequest {
  /** The session id to mint under (a caller that notes it before minting); a fresh one when absent. */
  id?: string | undefined;
  serial: string;
  product: Product;
  version?: string | undefined;
  ttlMs: number;
  ports?: readonly number[] | undefined;
  ticket?: TicketRef | undefined;
  /** The ticket's subject, shown in the console (untrusted text; kept only with a ticket). */
  ticketSubject?: string | undefined;
  email?: string | undefined;
  /**
   * 'customer' lets the customer choose the support password on the appliance. 'escrow' has the
   * appliance generate it and escrow it sealed to the custody key (what current agents ask for in
   * one-click: the resident service prepares the password before the click). 'generated' (default):
   * generated here, sealed in the key for an enrolled appliance; an unenrolled one escrows anyway.
   */
  passwordMode?: 'generated' | 'customer' | 'escrow';
  actor: string;
  /**
   * Place the key in an enrolled appliance's inbox (default true). One-click sets false: it hands
   * the key over in its answer. Unenrolled appliances have no inbox.
   */
  push?: boolean;
}

export interface IssueDeps {
  sessions: SessionStore;
  signingKey: SigningKey;
  relay: KeyRelays;
  now: () => number;
  /**
   * Enrolled appliances. Every server-side caller passes it, so keys for an enrolled appliance are
   * sealed whatever the flow; without it every key is a bearer key.
   */
  appliances?: ApplianceStore;
  /** Custody of generated support passwords (encrypted at rest, destroyed on close). */
  credentials?: CredentialStore;
}

export interface IssuedKey {
  session: SessionRecord;
  key: string;
  /** Id of the live session this one superseded, if any (closed with reason `superseded`). */
  superseded?: string | undefined;
  /** Credential and password are sealed to the appliance's enrolled identity. */
  sealed: boolean;
  /** The key waits in the appliance's inbox. */
  pushed: boolean;
}

const ID_BYTES = 12;

/** The custody public key per signing key, derived once (two HKDFs and an X25519 key), not per key minted. */
const custodyPublicBySigner = new WeakMap<KeyObject, string>();
function custodyPublicOf(signingPrivateKey: KeyObject): string {
  let pub = custodyPublicBySigner.get(signingPrivateKey);
  if (pub === undefined) {
    pub = custodyKeyFrom(credentialSecretFrom(signingPrivateKey)).publicRaw.toString('base64url');
    custodyPublicBySigner.set(signingPrivateKey, pub);
  }
  return pub;
}

/** 16 base64url characters that never start with `-` or `_`, so an id is never read as a CLI option. */
export function newId(): string {
  for (;;) {
    const id = randomBytes(ID_BYTES).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

export function checkPorts(product: Product, ports: readonly number[] | undefined): number[] {
  if (!ports || ports.length === 0) return [...DEFAULT_PORTS[product]];
  const allowed = DEFAULT_PORTS[product];
  const bad = ports.filter((p) => !allowed.includes(p));
  if (bad.length) throw new AppError('usage', `port ${bad.join(', ')} is not allowed for ${product.toUpperCase()} (allowed: ${allowed.join(', ')})`);
  return [...new Set(ports)].sort((a, b) => a - b);
}

export async function issueKey(req: IssueRequest, deps: IssueDeps): Promise<IssuedKey> {
  const serial = serialSchema.safeParse(req.serial);
  if (!serial.success) throw new AppError('usage', `invalid serial "${req.serial}": ${serial.error.issues[0]?.message}`);
  if (req.email !== undefined && !isMailAddress(req.email)) throw new AppError('usage', `invalid email "${req.email.slice(0, 254)}": must be a mail address`);
  const ttlMs = checkTtl(req.ttlMs);
  const ports = checkPorts(req.product, req.ports);
  const now = deps.now();
  const issuedAt = Math.floor(now / 1000) * 1000;
  const expiresAt = issuedAt + ttlMs;
  const { seed, raw: tunnelPub } = generateSeedPair();
  const id = req.id ?? newId();
  const jti = newId();
  const enrolled = deps.appliances ? await deps.appliances.sealingKeyOf(serial.data) : null;
  // A bearer key is read by whoever reads the mail: it carries no password. The appliance generates
  // one and escrows it sealed to the custody key (issue 13). A sealed key may carry one: only the
  // enrolled identity opens it.
  const pw: PasswordSpec =
    req.passwordMode === 'customer'
      ? { mode: 'customer' }
      : enrolled && req.passwordMode !== 'escrow'
        ? { mode: 'generated', value: generatePassword() }
        : { mode: 'escrow' };
  const secrets = { cred: seed.toString('base64url'), pw };
  const custody = pw.mode === 'escrow' ? custodyPublicOf(deps.signingKey.privateKey) : undefined;
  const payload: TetherKeyPayload = {
    v: 1,
    kid: deps.signingKey.kid,
    jti,
    sid: id,
    serial: serial.data,
    product: req.product,
    iat: issuedAt / 1000,
    exp: Math.floor(expiresAt / 1000),
    ...relaysFor(deps.relay, serial.data),
    ports,
    // Sealed: only the enrolled identity opens them, so a key intercepted in mail is useless.
    ...(enrolled ? { sealed: sealSecrets(enrolled.sealPub, secrets, sealContext(serial.data, jti)) } : secrets),
    ...(custody ? { custody } : {}),
  };
  const key = encodeKey(payload, deps.signingKey.privateKey);
  // Stored before the session exists: a crash in between leaves only a password that expires.
  if (pw.mode === 'generated' && deps.credentials) await deps.credentials.put(id, pw.value, expiresAt, now);
  const superseded = await deps.sessions.create(
    {
      id,
      jti,
      serial: serial.data,
      product: req.product,
      version: req.version,
      ports,
      tunnelPub,
      issuedAt,
      expiresAt,
      ticket: req.ticket,
      ticketSubject: req.ticketSubject,
      email: req.email,
      passwordEscrow: pw.mode === 'escrow',
    },
    req.actor,
  );
  if (superseded) {
    // One live tether per serial: the older session ends here, through the ordinary close path.
    await deps.sessions.close(superseded, 'superseded', req.actor, deps.now(), serial.data).catch((err: unknown) => {
      if (!isAppError(err, 'session_closed') && !isAppError(err, 'session_not_found')) throw err;
    });
  }
  const session = await deps.sessions.require(id);
  let pushed = false;
  if (enrolled && deps.appliances && req.push !== false) {
    // Push only offers the key: nothing connects until the customer accepts it on the appliance.
    await deps.appliances.pushKey(serial.data, { sid: id, key, issuedAt, expiresAt, ...(req.ticket ? { ticket: req.ticket } : {}) }, deps.now());
    pushed = true;
  }
  return { session, key, superseded, sealed: enrolled !== null, pushed };
}

/**
 * What a key says about the relays: `relay` (the first, all agents read it) and, for a fleet,
 * `relays` in the order the agent tries them: as configured, or (TETHER_RELAY_ORDER=serial)
 * starting at the relay the serial picks, the same one every time for an appliance.
 */
export function relaysFor(k: KeyRelays, serial: string): Pick<TetherKeyPayload, 'relay' | 'relays'> {
  const fleet = k.fleet && k.fleet.length > 1 ? k.fleet : undefined;
  if (!fleet) return { relay: { host: k.host, port: k.port, fp: k.fingerprint } };
  const start = k.order === 'serial' ? createHash('sha256').update(serial.toUpperCase()).digest().readUInt32BE(0) % fleet.length : 0;
  const relays = [...fleet.slice(start), ...fleet.slice(0, start)].map((e) => ({ host: e.host, port: e.port, fp: k.fingerprint }));
  return { relay: relays[0]!, relays };
}
