// The ssh2 send-buffer patch (patches/ssh2-send-buffer-reuse.patch): full-size AES-GCM packets
// reuse their buffers, and a buffer is reused only after the socket has written it. Two ways a
// buffer could be handed out again too early, each caught by the client's AES-GCM check or the
// digest at the end:
// - the relay's corking (coalesceWritesPerRead): a window's worth of packets, written over several
//   ticks of one event-loop turn, waits in the corked socket before one writev;
// - a partial write: with the client not reading, the kernel's buffers fill and libuv holds the
//   rest of a write until the socket drains.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { ClientChannel, Connection } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWritesPerRead } from '../../relay/ssh2-internals.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { eventually } from '../helpers/processes.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ssh2 = createRequire(join(ROOT, 'package.json'))('ssh2') as typeof import('ssh2');
const GCM = 'aes128-gcm@openssh.com';
const PIECE = 32 * 1024;

type RawSocket = Socket & { _handle?: { writeQueueSize?: number } };
const rawSocket = (x: Connection | import('ssh2').Client) => (x as unknown as { _sock: RawSocket })._sock;

interface WriteSpy {
  /** Writes of at least 16 KiB (channel data packets) and the distinct ArrayBuffers behind them. */
  large: number;
  buffers: Set<ArrayBufferLike>;
}

function spyOnWrites(sock: RawSocket): WriteSpy {
  const spy: WriteSpy = { large: 0, buffers: new Set() };
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  (sock as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk) && chunk.length >= 16_384) {
      spy.large++;
      spy.buffers.add(chunk.buffer);
    }
    return write(chunk, ...rest);
  };
  return spy;
}

/** An ssh2 server whose every `exec` runs `onExec`, and a client logged in to it, both AES-GCM. */
async function startPair(onConnection: (conn: Connection) => void, onExec: (stream: import('ssh2').ServerChannel, conn: Connection) => void) {
  const server = new ssh2.Server({ hostKeys: [openSshPrivateKeyFromSeed(generateSeed())], algorithms: { cipher: [GCM] } }, (conn) => {
    onConnection(conn);
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => ctx.accept());
    conn.on('ready', () => conn.on('session', (accept) => accept().on('exec', (acceptExec) => onExec(acceptExec(), conn))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = new ssh2.Client();
  await new Promise<void>((resolveReady, reject) => {
    client.once('error', reject);
    client.once('ready', () => resolveReady());
    client.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, username: 'x', password: 'y', algorithms: { cipher: [GCM] } });
  });
  cleanups.push(async () => {
    client.end();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { client };
}

/** Runs `command` and resolves with the byte count and SHA-256 of everything it sends. */
function receive(client: import('ssh2').Client, slow: boolean): Promise<{ bytes: number; digest: string }> {
  return new Promise((resolveDone, reject) => {
    client.exec('send', (err, stream: ClientChannel) => {
      if (err) return reject(err);
      const hash = createHash('sha256');
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        if (!slow) return;
        // A pause after every read: the server waits for window adjusts, each releasing a batch.
        stream.pause();
        setTimeout(() => stream.resume(), 1);
      });
      stream.on('close', () => resolveDone({ bytes, digest: hash.digest('hex') }));
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('ssh2 send-buffer reuse (patch)', () => {
  it('reuses channel-data packet buffers, and only once written: 24 MiB through a corked socket, written over many ticks, arrive intact', async () => {
    const total = 24 * 2 ** 20;
    const payload = randomBytes(total);
    let spy: WriteSpy | undefined;
    const { client } = await startPair(
      (conn) => {
        spy = spyOnWrites(rawSocket(conn));
        coalesceWritesPerRead(conn);
      },
      (stream, conn) => {
        // As the relay writes a read's packets: over several ticks of one turn, into a corked socket.
        const sock = rawSocket(conn);
        sock.cork();
        let offset = 0;
        const step = () => {
          if (offset >= total) return void stream.end();
          stream.write(payload.subarray(offset, offset + PIECE));
          offset += PIECE;
          process.nextTick(step);
        };
        step();
        setImmediate(() => sock.uncork());
      },
    );
    const received = await receive(client, true);
    expect(received.bytes).toBe(total);
    expect(received.digest).toBe(createHash('sha256').update(payload).digest('hex'));
    // ~770 channel-data packets of 32 KiB went out; without the patch each had its own buffer.
    expect(spy!.large).toBeGreaterThan(700);
    expect(spy!.buffers.size).toBeLessThan(spy!.large / 2);
  });

  it('keeps a buffer out of use while libuv still holds part of its write: 24 channels × 4 MiB to a client that stops reading', async () => {
    const size = 4 * 2 ** 20;
    const channels = 24;
    const payload = randomBytes(size);
    let serverSock: RawSocket | undefined;
    let release: () => void = () => undefined;
    const go = new Promise<void>((r) => (release = r));
    let execs = 0;
    const { client } = await startPair(
      (conn) => (serverSock = rawSocket(conn)),
      (stream) => {
        execs++;
        void go.then(() => stream.end(payload));
      },
    );
    const results = Array.from({ length: channels }, () => receive(client, false));
    // Once every channel runs, the client stops reading its socket; the server sends (windows of
    // 2 MiB each: 48 MiB at first) until the kernel's buffers are full and libuv queues the rest of a write.
    await eventually(() => execs === channels, 5_000);
    rawSocket(client).pause();
    release();
    await eventually(() => (serverSock?._handle?.writeQueueSize ?? 0) > 0, 10_000);
    rawSocket(client).resume();
    const digest = createHash('sha256').update(payload).digest('hex');
    for (const r of await Promise.all(results)) expect(r).toEqual({ bytes: size, digest });
  });
});
