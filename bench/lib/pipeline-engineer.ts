// An engineer for the teardown benchmark: one ssh2 connection to the relay (registered key, pinned
// host key) holding an open `direct-tcpip` channel to each appliance, each checked with an echoed
// byte, and reporting when the relay closes it (performance.now() of the channel's 'close').
import type ssh2 from 'ssh2';
import { connectEngineerClient, type RelayAddress } from './engineer-connection.js';

export interface HeldChannel {
  serial: string;
  /** Resolves with performance.now() when the channel closes (EOF or CLOSE, whichever is first). */
  closed: Promise<number>;
  isClosed(): boolean;
}

export interface EngineerSession {
  hold(serial: string, port: number): Promise<HeldChannel>;
  close(): void;
}

export async function connectHoldingEngineer(relay: RelayAddress, username: string, privateKey: string): Promise<EngineerSession> {
  const conn = await connectEngineerClient(relay, username, privateKey, { readyTimeout: 30_000, keepaliveInterval: 15_000 });
  return { hold: (serial, port) => hold(conn, serial, port), close: () => conn.end() };
}

function hold(conn: ssh2.Client, serial: string, port: number): Promise<HeldChannel> {
  return new Promise((resolve, reject) => {
    conn.forwardOut('127.0.0.1', 40_000, serial, port, (err, ch) => {
      if (err) return reject(new Error(`engineer channel to ${serial}:${port} refused: ${err.message}`));
      let closedAt: number | undefined;
      let markClosed!: (at: number) => void;
      const closed = new Promise<number>((r) => (markClosed = r));
      const onClose = () => {
        if (closedAt !== undefined) return;
        closedAt = performance.now();
        markClosed(closedAt);
      };
      ch.on('error', () => undefined);
      ch.once('end', onClose);
      ch.once('close', onClose);
      const timer = setTimeout(() => reject(new Error(`no echo from ${serial}:${port} within 30 s`)), 30_000);
      ch.once('data', () => {
        clearTimeout(timer);
        // Keep reading so that the channel's window never fills and 'end' can be seen.
        ch.on('data', () => undefined);
        resolve({ serial, closed, isClosed: () => closedAt !== undefined });
      });
      ch.write('x');
    });
  });
}
