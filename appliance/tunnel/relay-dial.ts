// One connection attempt to the relay: TCP, SSH handshake with the relay's host key pinned to the
// fingerprint in the key, then public-key auth as the serial. The appliance-held key is tried
// alone first (a reconnect); while the key's credential is still held it follows, and the relay's
// partial success asks for the appliance key again, which the relay then binds to the session
// (activation: the key's credential works exactly once). Classifies failures: a host-key mismatch
// or a refused login is permanent; anything else is worth retrying. The relay's banner says why.
import { getCiphers } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthHandlerMiddleware, PublicKeyAuthMethod, Client as SshClient, ClientErrorExtensions, CipherAlgorithm } from 'ssh2';
import { AppError, type ErrorCode } from '../../shared/errors.js';
import type { RelayEndpoint } from '../../shared/key/tether-key.schema.js';
import { parseRefusalBanner, type RelayRefusal } from '../../shared/relay-protocol.js';
import { fingerprintOfBlob } from '../../shared/ssh-keys.js';
import { closedPromise } from './client-close.js';

const { Client } = ssh2;

export type { RelayEndpoint };

export interface DialOptions {
  relay: RelayEndpoint;
  /** The appliance serial: the relay's user name for appliances. */
  username: string;
  /** OpenSSH private key text of the appliance-held key (tunnel_key): every login presents it. */
  privateKey: string;
  /** OpenSSH private key text of the key's tunnel credential (activation_key), until it was used. */
  activationKey?: string | undefined;
  keepaliveMs: number;
  readyTimeoutMs: number;
  /** The relay's address, resolved ahead of time (the service keeps it warm); else relay.host is resolved now. */
  address?: string | undefined;
  /** Told when the key exchange is done (the host key matched): the rest of the dial is the login. */
  onHandshake?: (() => void) | undefined;
  /**
   * The login waits for this (the service connects while the support account is still being made);
   * nothing is presented to the relay before it resolves, and the connection is ended if it rejects.
   */
  loginGate?: Promise<void> | undefined;
}

/** Our preference, each with the OpenSSL cipher ssh2 needs for it. */
const PREFERRED_CIPHERS: [CipherAlgorithm, string][] = [
  ['aes128-gcm@openssh.com', 'aes-128-gcm'],
  ['aes256-gcm@openssh.com', 'aes-256-gcm'],
  ['chacha20-poly1305@openssh.com', 'chacha20'],
  ['aes128-ctr', 'aes-128-ctr'],
  ['aes192-ctr', 'aes-192-ctr'],
  ['aes256-ctr', 'aes-256-ctr'],
];

/**
 * AES-GCM first (the client's order picks the cipher): ~35% faster than chacha20 on this class of
 * hardware (relay-notes). Limited to what this Node's OpenSSL has: ssh2 throws on the rest.
 */
export const CIPHERS: CipherAlgorithm[] = (() => {
  const available = new Set(getCiphers());
  return PREFERRED_CIPHERS.filter(([, ssl]) => available.has(ssl)).map(([name]) => name);
})();

export const REFUSED_BY_RELAY = 'refused by relay: the key is no longer valid (already used, revoked or expired)';

/** What each refusal the relay names means here. */
const REFUSAL_CODES: Record<RelayRefusal, ErrorCode> = {
  keyAlreadyUsed: 'key_already_used',
  sessionClosed: 'session_closed',
  keyExpired: 'key_expired',
  unavailable: 'relay_unreachable',
};

/** Codes after which the session can never come back on this appliance. */
const CREDENTIAL_REFUSALS: readonly ErrorCode[] = ['relay_refused', 'key_already_used', 'session_closed', 'key_expired'];

export function isCredentialRefusal(err: unknown): boolean {
  return err instanceof AppError && CREDENTIAL_REFUSALS.includes(err.code);
}

export function isPermanentRefusal(err: unknown): boolean {
  return isCredentialRefusal(err) || (err instanceof AppError && err.code === 'relay_host_key_mismatch');
}

/** Appliance key alone; then, while the credential is held, credential → (partial) → appliance key. */
export function loginSteps(username: string, applianceKey: string, activationKey: string | undefined): AuthHandlerMiddleware {
  const steps: PublicKeyAuthMethod[] = [{ type: 'publickey', username, key: applianceKey }];
  if (activationKey) steps.push({ type: 'publickey', username, key: activationKey }, { type: 'publickey', username, key: applianceKey });
  let step = 0;
  // ssh2 takes `false` from the handler as "no more methods" (its typings do not say so).
  const handler = (_methodsLeft: unknown, partialSuccess: boolean | null): PublicKeyAuthMethod | false => {
    // The third step only follows a partial success of the second: the relay took the credential.
    if (step === 2 && !partialSuccess) return false;
    return steps[step++] ?? false;
  };
  return handler as unknown as AuthHandlerMiddleware;
}

/** Holds the first login step until `gate` resolves; ends the connection (`abandon`) if it rejects. */
export function gatedLogin(steps: AuthHandlerMiddleware, gate: Promise<void>, abandon: () => void): AuthHandlerMiddleware {
  type Handler = (methodsLeft: unknown, partialSuccess: boolean | null, next: (m: unknown) => void) => unknown;
  const inner = steps as unknown as Handler;
  let open = false;
  const handler: Handler = (methodsLeft, partialSuccess, next) => {
    if (open) return inner(methodsLeft, partialSuccess, next);
    gate.then(() => {
      open = true;
      next(inner(methodsLeft, partialSuccess, next));
    }, abandon);
    return undefined; // ssh2 waits for `next`
  };
  return handler as unknown as AuthHandlerMiddleware;
}

export function dialRelay(opts: DialOptions): Promise<SshClient> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    closedPromise(client);
    let presented: string | undefined;
    let told: { kind: RelayRefusal; text: string } | null = null;
    let settled = false;
    const fail = (err: AppError): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.end();
      reject(err);
    };
    client.once('ready', () => {
      if (settled) return client.end();
      settled = true;
      resolve(client);
    });
    if (opts.onHandshake) client.once('handshake', opts.onHandshake);
    client.on('banner', (message: string) => {
      told = parseRefusalBanner(message) ?? told;
    });
    client.on('error', (err: Error & ClientErrorExtensions) => {
      if (presented !== undefined && presented !== opts.relay.fp) {
        fail(new AppError('relay_host_key_mismatch', `relay host key does not match the key (expected ${opts.relay.fp}, got ${presented})`));
      } else if (told) {
        const code = REFUSAL_CODES[told.kind];
        fail(new AppError(code, `refused by relay: ${told.text}`, { retryable: code === 'relay_unreachable' }));
      } else if (err.level === 'client-authentication') {
        fail(new AppError('relay_refused', REFUSED_BY_RELAY));
      } else {
        fail(new AppError('relay_unreachable', `cannot reach the relay at ${opts.relay.host}:${opts.relay.port}: ${err.message}`, { retryable: true, cause: err }));
      }
    });
    client.once('close', () => {
      const why = told ? `: ${told.text}` : '';
      fail(new AppError('relay_unreachable', `relay ${opts.relay.host}:${opts.relay.port} closed the connection during the handshake${why}`, { retryable: true }));
    });
    try {
      client.connect({
        host: opts.address ?? opts.relay.host,
        port: opts.relay.port,
        username: opts.username,
        authHandler: opts.loginGate
          ? gatedLogin(loginSteps(opts.username, opts.privateKey, opts.activationKey), opts.loginGate, () => client.end())
          : loginSteps(opts.username, opts.privateKey, opts.activationKey),
        // Runs before any authentication message is sent: a wrong host never sees the credential.
        hostVerifier: (blob: Buffer) => {
          presented = fingerprintOfBlob(blob);
          return presented === opts.relay.fp;
        },
        algorithms: { cipher: CIPHERS },
        keepaliveInterval: opts.keepaliveMs,
        keepaliveCountMax: 3,
        readyTimeout: opts.readyTimeoutMs,
        // Only the tunnel credential: no agent, no keyboard-interactive, no password.
        tryKeyboard: false,
      });
    } catch (err) {
      fail(new AppError('internal', `cannot start the ssh client: ${(err as Error).message}`, { cause: err }));
    }
  });
}
