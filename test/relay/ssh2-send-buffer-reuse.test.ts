// The ssh2 send-buffer patch (patches/ssh2-send-buffer-reuse.patch): full-size AES-GCM packets
// reuse their buffers, and a buffer is reused only after the socket has written it. 24 MiB go from
// an ssh2 server to a client, the server's socket corked per read as the relay does it
// (coalesceWritesPerRead), so a window's worth of packets waits in the socket before one writev; a
// buffer handed out again while it waits would change bytes already queued, which the client's
// AES-GCM check (or the digest at the end) catches.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coalesceWritesPerRead } from '../../relay/ssh2-internals.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ssh2 = createRequire(join(ROOT, 'package.json'))('ssh2') as typeof import('ssh2');
const GCM = 'aes128-gcm@openssh.com';
const TOTAL = 24 * 2 ** 20;

interface WriteSpy {
  /** Writes of at least 16 KiB (channel data packets) and the distinct ArrayBuffers behind them. */
  large: number;
  buffers: Set<ArrayBufferLike>;
}

function spyOnWrites(sock: { write: (...args: unknown[]) => boolean }): WriteSpy {
  const spy: WriteSpy = { large: 0, buffers: new Set() };
  const write = sock.write.bind(sock);
  sock.write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length >= 16_384) {
      spy.large++;
      spy.buffers.add(chunk.buffer);
    }
    return write(chunk, ...rest);
  };
  return spy;
}

describe('ssh2 send-buffer reuse (patch)', () => {
  it('reuses channel-data packet buffers, and only once written: 24 MiB through a corked socket arrive intact', async () => {
    const payload = randomBytes(TOTAL);
    const sent = createHash('sha256').update(payload).digest('hex');
    let spy: WriteSpy | undefined;
    const server = new ssh2.Server({ hostKeys: [openSshPrivateKeyFromSeed(generateSeed())], algorithms: { cipher: [GCM] } }, (conn) => {
      spy = spyOnWrites((conn as unknown as { _sock: { write: (...args: unknown[]) => boolean } })._sock);
      coalesceWritesPerRead(conn);
      conn.on('error', () => undefined);
      conn.on('authentication', (ctx) => ctx.accept());
      conn.on('ready', () => {
        conn.on('session', (accept) => {
          const session = accept();
          session.on('exec', (acceptExec) => {
            const stream = acceptExec();
            const sock = (conn as unknown as { _sock: { cork(): void; uncork(): void } })._sock;
            sock.cork();
            stream.end(payload);
            setImmediate(() => sock.uncork());
          });
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = new ssh2.Client();
    try {
      const port = (server.address() as AddressInfo).port;
      const received = await new Promise<{ digest: string; bytes: number }>((resolveDone, reject) => {
        client.on('error', reject);
        client.on('ready', () => {
          client.exec('send', (err, stream) => {
            if (err) return reject(err);
            const hash = createHash('sha256');
            let bytes = 0;
            // A pause after every read: the server waits for window adjusts, each releasing a batch.
            stream.on('data', (chunk: Buffer) => {
              hash.update(chunk);
              bytes += chunk.length;
              stream.pause();
              setTimeout(() => stream.resume(), 1);
            });
            stream.on('close', () => resolveDone({ digest: hash.digest('hex'), bytes }));
          });
        });
        client.connect({ host: '127.0.0.1', port, username: 'x', password: 'y', algorithms: { cipher: [GCM] } });
      });
      expect(received.bytes).toBe(TOTAL);
      expect(received.digest).toBe(sent);
      // ~770 channel-data packets of 32 KiB went out; without the patch each had its own buffer.
      expect(spy!.large).toBeGreaterThan(700);
      expect(spy!.buffers.size).toBeLessThan(spy!.large / 2);
    } finally {
      client.end();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
