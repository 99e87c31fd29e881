// The appliance's service in the throughput benchmark: a loopback TCP server that counts the bytes
// of one expected transfer and times them from the first to the last byte. It keeps the socket
// open until released, so the middle box's processes are still alive when their CPU is read.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Transfer {
  bytes: number;
  /** Bytes in the first chunk: sent before the clock started, left out of the rate. */
  firstChunk: number;
  /** performance.now() at the first and the last byte. */
  firstAt: number;
  lastAt: number;
}

interface Expectation {
  bytes: number;
  resolve: (r: { transfer: Transfer; release: () => void }) => void;
  reject: (err: Error) => void;
}

export class ByteSink {
  private server: Server | undefined;
  private pending: Expectation | undefined;
  port = 0;

  async start(): Promise<number> {
    const server = createServer((sock) => this.onConnection(sock));
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Resolves once `bytes` arrived on the next connection; `release` then ends that socket. */
  expect(bytes: number): Promise<{ transfer: Transfer; release: () => void }> {
    if (this.pending) throw new Error('a transfer is already expected');
    return new Promise((resolve, reject) => {
      this.pending = { bytes, resolve, reject };
    });
  }

  /** Fails the pending expectation (e.g. the sender died). */
  fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private onConnection(sock: Socket): void {
    sock.on('error', () => undefined);
    const exp = this.pending;
    if (!exp) {
      sock.destroy();
      return;
    }
    this.pending = undefined;
    const t: Transfer = { bytes: 0, firstChunk: 0, firstAt: 0, lastAt: 0 };
    let done = false;
    sock.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (t.bytes === 0) {
        t.firstAt = now;
        t.firstChunk = chunk.length;
      }
      t.bytes += chunk.length;
      t.lastAt = now;
      if (!done && t.bytes >= exp.bytes) {
        done = true;
        exp.resolve({ transfer: t, release: () => sock.end() });
      }
    });
    sock.once('end', () => {
      if (!done) {
        done = true;
        exp.reject(new Error(`transfer ended after ${t.bytes} of ${exp.bytes} bytes`));
      }
      sock.end();
    });
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
