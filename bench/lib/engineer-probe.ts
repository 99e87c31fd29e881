// An engineer already logged in to the relay (ssh2 Client, registered key, pinned host key) that
// asks again and again for `direct-tcpip` to <serial>:<port> until a channel opens and echoes a
// byte: the moment an engineer can first exchange data with the appliance's service.
import type ssh2 from 'ssh2';
import { connectEngineerClient, type RelayAddress } from './engineer-connection.js';

export interface EngineerProbe {
  /** Resolves with performance.now() at the first echoed byte. */
  firstEcho(serial: string, port: number, opts: { everyMs: number; timeoutMs: number }): Promise<number>;
  close(): void;
}

export async function connectEngineer(relay: RelayAddress, username: string, privateKey: string): Promise<EngineerProbe> {
  const conn = await connectEngineerClient(relay, username, privateKey, { readyTimeout: 20_000 });
  return {
    firstEcho: (serial, port, opts) => firstEcho(conn, serial, port, opts),
    close: () => conn.end(),
  };
}

function tryOnce(conn: ssh2.Client, serial: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    conn.forwardOut('127.0.0.1', 40_000, serial, port, (err, ch) => {
      if (err) return resolve(undefined);
      ch.on('error', () => undefined);
      ch.once('data', () => {
        const at = performance.now();
        ch.close();
        resolve(at);
      });
      ch.once('close', () => resolve(undefined));
      ch.write('x');
    });
  });
}

async function firstEcho(conn: ssh2.Client, serial: string, port: number, opts: { everyMs: number; timeoutMs: number }): Promise<number> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const started = performance.now();
    const at = await tryOnce(conn, serial, port);
    if (at !== undefined) return at;
    if (performance.now() > deadline) throw new Error(`no engineer channel to ${serial}:${port} within ${opts.timeoutMs} ms`);
    const wait = opts.everyMs - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
