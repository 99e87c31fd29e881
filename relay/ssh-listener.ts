// Starts an ssh2 server listening, the way the relay's public listener and its peer-link listener
// both start: the relay host key, keepalives, an `error` listener for the server's whole life, and
// a bind failure (port taken, address not local) as a coded error. Both hold their connections alike.
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import { AppError } from '../shared/errors.js';
import type { RelayHostKey } from '../shared/key/key-files.js';
import type { Logger } from '../shared/logger.js';
import { preparedHostKey } from './ssh2-internals.js';

export interface SshListenerDeps {
  hostKey: RelayHostKey;
  keepaliveMs: number;
  logger: Logger;
}

export interface SshListenerOptions {
  /** Names the listener in its log lines and errors ('relay listener', 'relay peer listener'). */
  name: string;
  /** The SSH identification string's software part. */
  ident: string;
  ciphers: readonly string[];
  /**
   * `exclusive`: never share the port with the other processes of a cluster (a relay per core
   * shares its SSH port, but each relay's peer listener must reach that relay alone).
   */
  listen: { host: string; port: number; exclusive?: boolean };
  onConnection: (conn: Connection, ip: string) => void;
}

export async function startSshListener(deps: SshListenerDeps, o: SshListenerOptions): Promise<{ server: ssh2.Server; port: number }> {
  const server = new ssh2.Server(
    {
      hostKeys: [{ key: preparedHostKey(deps.hostKey.privateKey) }],
      algorithms: { cipher: [...o.ciphers] as ssh2.CipherAlgorithm[] },
      keepaliveInterval: deps.keepaliveMs,
      keepaliveCountMax: 3,
      ident: o.ident,
    },
    (conn, info) => o.onConnection(conn, info.ip),
  );
  server.on('error', (err: Error) => deps.logger.error({ err }, `${o.name} error`));
  const { host, port, exclusive = false } = o.listen;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new AppError('internal', `${o.name} cannot listen on ${host}:${port}`, { cause: err });
  }
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * A new connection, held in `open` until it closes: ended unless it logs in within `graceMs` (clear
 * the returned timer once it has), its errors logged at debug as `errorLine`.
 */
export function holdConnection(conn: Connection, open: Set<Connection>, o: { ip: string; graceMs: number; logger: Logger; errorLine: string }): NodeJS.Timeout {
  open.add(conn);
  const grace = setTimeout(() => conn.end(), o.graceMs);
  grace.unref();
  conn.on('error', (err: Error) => o.logger.debug({ err: err.message, ip: o.ip }, o.errorLine));
  conn.once('close', () => {
    clearTimeout(grace);
    open.delete(conn);
  });
  return grace;
}
