// The sealed support password waiting to be escrowed (KTETHER_HOME/password_escrow.json, 0600):
// written by `enable` before the account is made, read by the daemon on every connection until
// the relay acknowledged it, removed then and at teardown. It holds only the box sealed to the
// vendor's custody key, never the password; kept unchanged, so every re-send is the same bytes.
import { existsSync } from 'node:fs';
import { AppError } from '../shared/errors.js';
import { escrowBoxSchema, type EscrowBox } from '../shared/key/password-escrow.js';
import { readJsonIfExists, removeIfExists, writeJsonAtomic, type AgentPaths } from './agent-home.js';

export function writeEscrow(paths: AgentPaths, box: EscrowBox): void {
  writeJsonAtomic(paths.escrow, escrowBoxSchema.parse(box), 0o600);
}

/** The box, or undefined when none waits. */
export function readEscrow(paths: AgentPaths): EscrowBox | undefined {
  if (!existsSync(paths.escrow)) return undefined;
  const parsed = escrowBoxSchema.safeParse(readJsonIfExists(paths.escrow));
  if (!parsed.success) throw new AppError('internal', `${paths.escrow} is invalid`);
  return parsed.data;
}

export function removeEscrow(paths: AgentPaths): void {
  removeIfExists(paths.escrow);
}
