// The appliance's enrolled identity (KTETHER_HOME/identity.json, mode 0600): the Ed25519 key that
// signs its API requests, the X25519 key sealed keys are opened with, the API it enrolled with and
// the version it last reported there. Written by `ktether enroll`; the private keys never leave it.
import { chmodSync, statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { privateKeyFromPem, privateKeyToPem, rawPublicKey } from '../shared/key/sealing.js';
import { serialSchema } from '../shared/key/tether-key.schema.js';
import { readJsonIfExists, writeJsonAtomic, type AgentPaths } from './agent-home.js';

const identityFileSchema = z.object({
  v: z.literal(1),
  serial: serialSchema,
  /** Base URL of the orchestrator's API (`https://tether.vendor.example`). */
  api: z.string().url(),
  signKey: z.string().includes('PRIVATE KEY'),
  sealKey: z.string().includes('PRIVATE KEY'),
  enrolledAt: z.string(),
  /** The version the API knows; a different config version is reported before the next call. */
  reportedVersion: z.string().min(1).max(32),
});
type IdentityFile = z.infer<typeof identityFileSchema>;

export interface ApplianceIdentity {
  serial: string;
  api: string;
  signKey: KeyObject;
  sealKey: KeyObject;
  enrolledAt: string;
  reportedVersion: string;
}

export function identityPublicKeys(id: Pick<ApplianceIdentity, 'signKey' | 'sealKey'>): { signPub: string; sealPub: string } {
  return { signPub: rawPublicKey(id.signKey).toString('base64url'), sealPub: rawPublicKey(id.sealKey).toString('base64url') };
}

/** The identity, or undefined when this appliance has not enrolled. */
export function readIdentity(paths: AgentPaths): ApplianceIdentity | undefined {
  const raw = readJsonIfExists(paths.identity);
  if (raw === undefined) return undefined;
  const parsed = identityFileSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('internal', `${paths.identity} is invalid: run ktether enroll again with a new token`);
  // Someone widened the mode: put it back rather than go on with a readable private key.
  if ((statSync(paths.identity).mode & 0o077) !== 0) chmodSync(paths.identity, 0o600);
  const f = parsed.data;
  return {
    serial: f.serial,
    api: f.api,
    signKey: privateKeyFromPem(f.signKey, 'ed25519'),
    sealKey: privateKeyFromPem(f.sealKey, 'x25519'),
    enrolledAt: f.enrolledAt,
    reportedVersion: f.reportedVersion,
  };
}

export function requireIdentity(paths: AgentPaths): ApplianceIdentity {
  const id = readIdentity(paths);
  if (!id) throw new AppError('appliance_not_enrolled', 'this appliance is not enrolled: run ktether enroll --api URL --token T (the token comes from support)');
  return id;
}

export function writeIdentity(paths: AgentPaths, id: ApplianceIdentity): void {
  const file: IdentityFile = {
    v: 1,
    serial: id.serial,
    api: id.api,
    signKey: privateKeyToPem(id.signKey),
    sealKey: privateKeyToPem(id.sealKey),
    enrolledAt: id.enrolledAt,
    reportedVersion: id.reportedVersion,
  };
  writeJsonAtomic(paths.identity, identityFileSchema.parse(file), 0o600);
}
