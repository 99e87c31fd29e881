// An engineer's ssh2 connection to the relay as the benchmarks open it: a registered key, the relay's
// host key pinned by fingerprint, no keyboard-interactive. What the engineer does on it is the caller's.
import ssh2 from 'ssh2';
import { fingerprintOfBlob } from '../../shared/ssh-keys.js';

export interface RelayAddress {
  host: string;
  port: number;
  /** The relay's host key fingerprint. */
  fp: string;
}

/** Resolves once logged in; later connection errors are ignored (channels report their own). */
export function connectEngineerClient(relay: RelayAddress, username: string, privateKey: string, opts: { readyTimeout: number; keepaliveInterval?: number }): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.once('error', reject);
    conn.once('ready', () => {
      conn.off('error', reject);
      conn.on('error', () => undefined);
      resolve(conn);
    });
    conn.connect({
      host: relay.host,
      port: relay.port,
      username,
      privateKey,
      hostVerifier: (blob: Buffer) => fingerprintOfBlob(blob) === relay.fp,
      tryKeyboard: false,
      readyTimeout: opts.readyTimeout,
      ...(opts.keepaliveInterval === undefined ? {} : { keepaliveInterval: opts.keepaliveInterval }),
    });
  });
}
