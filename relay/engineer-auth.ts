// Engineer authentication: the SSH username is a registered engineer and the offered public key is
// one of that engineer's registered keys. Anything else is refused.
import type { PublicKeyAuthContext } from 'ssh2';
import { keyFingerprint, keyIsCurrent, type Engineer } from '../shared/store/engineer.store.js';
import { refuse, sameBytes, signatureAcceptable, type AuthOutcome } from './public-key-check.js';

export interface EngineerIdentity {
  kind: 'engineer';
  name: string;
  /** Fingerprint of the key used: removing that one key ends this connection. */
  fingerprint: string;
}

export function authenticateEngineer(ctx: PublicKeyAuthContext, engineer: Engineer, now: number): AuthOutcome<EngineerIdentity> {
  const offered = ctx.key.data;
  let match: (typeof engineer.keys)[number] | undefined;
  // No early exit: every registered key is compared, whichever one matches.
  for (const key of engineer.keys) {
    const sameAlgo = key.type === ctx.key.algo;
    const sameKey = sameBytes(Buffer.from(key.blob, 'base64'), offered);
    if (sameAlgo && sameKey) match = key;
  }
  if (!match) return refuse(`engineer ${engineer.name}: offered key is not registered`);
  if (!keyIsCurrent(match, now)) return refuse(`engineer ${engineer.name}: key ${match.fingerprint} expired at ${new Date(match.expiresAt!).toISOString()}`);
  if (!signatureAcceptable(ctx)) return refuse(`engineer ${engineer.name}: signature does not verify`);
  return { kind: 'accept', identity: { kind: 'engineer', name: engineer.name, fingerprint: keyFingerprint(offered) } };
}
