// Where the agent keeps its files under KTETHER_HOME, and the small file primitives it needs:
// atomic writes (temp + rename, so a crash never leaves half a file) and tolerant removal.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../shared/errors.js';

export interface AgentPaths {
  home: string;
  /** Appliance identity and forward targets, written by `init`. */
  config: string;
  /** Copy of the vendor public key(s) the agent verifies keys against. */
  vendorKey: string;
  /** OpenSSH private key this appliance generated for the live session (0600): after the first
   * login the relay accepts only it, so it is what reproduces the tunnel with stock OpenSSH. */
  tunnelKey: string;
  /** OpenSSH private key of the key's one-time tunnel credential (0600), until the first login. */
  activationKey: string;
  pidFile: string;
  /** The live (or last) tether: state, session, relay, ports, expiry. No secrets. */
  stateFile: string;
  logFile: string;
  /** File account provider's store. */
  accounts: string;
  /** Key ids (jti) this appliance must never accept again. */
  usedKeys: string;
  /** Enrolled identity (0600): Ed25519 signing and X25519 sealing private keys, the API URL. */
  identity: string;
  /** The generated support password sealed to the vendor's custody key (0600), until the relay took it. */
  escrow: string;
  /** scrypt hash of the Tether page's local admin password (0600), set by `init --ui-password-file`. */
  uiPassword: string;
}

export function agentPaths(home: string): AgentPaths {
  return {
    home,
    config: join(home, 'config.json'),
    vendorKey: join(home, 'vendor.pub'),
    tunnelKey: join(home, 'tunnel_key'),
    activationKey: join(home, 'activation_key'),
    pidFile: join(home, 'ktether.pid'),
    stateFile: join(home, 'state.json'),
    logFile: join(home, 'ktether.log'),
    accounts: join(home, 'accounts.json'),
    usedKeys: join(home, 'used_keys.json'),
    identity: join(home, 'identity.json'),
    escrow: join(home, 'password_escrow.json'),
    uiPassword: join(home, 'ui_password'),
  };
}

export function ensureHome(paths: AgentPaths): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
}

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

/** Parsed JSON, or undefined when the file does not exist; unreadable JSON is an error. */
export function readJsonIfExists(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AppError('internal', `${path} is not valid JSON`, { cause: err });
  }
}

export function removeIfExists(path: string): void {
  rmSync(path, { force: true });
}
