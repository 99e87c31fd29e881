// The service's end of the control socket: claims KTETHER_HOME/ktether.sock (replacing a stale one
// left by a dead service, refusing when a live service answers), listens with mode 0600, splits
// each connection into request lines, answers junk and oversized frames with a one-line reason
// (an oversized frame also ends that connection: it cannot be resynced) and keeps serving.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { AppError, describeError, isAppError } from '../../shared/errors.js';
import type { AgentLog } from '../agent-log.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, type ControlRequest, type Progress, type ServiceFrame } from './control-protocol.js';
import { parseControlRequest } from './control-request.schema.js';

export type ControlHandler = (request: ControlRequest, progress: (p: Progress) => void) => Promise<unknown>;

export interface ControlServerOptions {
  path: string;
  handler: ControlHandler;
  log: AgentLog;
  maxFrameBytes?: number;
  maxConnections?: number;
  /** A connection with nothing in flight and nothing sent for this long is closed. */
  idleTimeoutMs?: number;
}

/** What was at the socket path before the service claimed it. */
export type SocketClaim = 'free' | 'stale';

/** Whether something accepts connections on the unix socket at `path`. */
export function socketAnswers(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const done = (alive: boolean): void => {
      sock.destroy();
      resolve(alive);
    };
    sock.setTimeout(timeoutMs, () => done(true)); // accepted but silent: something lives there
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Makes `path` free for a new listener; throws when a live service holds it or it is not a socket. */
export async function claimSocketPath(path: string): Promise<SocketClaim> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return 'free';
  }
  if (!isSocket) throw new AppError('config_invalid', `${path} exists and is not a socket: remove it, then start the service again`);
  if (await socketAnswers(path)) throw new AppError('agent_busy', `a ktether service is already running (it answers on ${path})`);
  unlinkSync(path);
  return 'stale';
}

export class ControlServer {
  readonly #opts: ControlServerOptions;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #closed = false;

  constructor(opts: ControlServerOptions) {
    this.#opts = opts;
  }

  /** Claims the path and listens; resolves with what was there before. */
  async start(): Promise<SocketClaim> {
    const { path } = this.#opts;
    const claim = await claimSocketPath(path);
    const server = createServer((sock) => this.#serve(sock));
    server.maxConnections = this.#opts.maxConnections ?? 32;
    server.on('error', (err) => this.#opts.log(`control socket: ${err.message}`));
    // Created owner-only from the start (no window with a wider mode), then made sure of.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(path, 0o600);
    this.#server = server;
    return claim;
  }

  /** Stops listening, ends every connection and removes the socket file (if it is still ours). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const server = this.#server;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #serve(sock: Socket): void {
    this.#sockets.add(sock);
    const max = this.#opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    let buffered: Buffer[] = [];
    let size = 0;
    let inFlight = 0;
    let refused = false;
    const send = (frame: ServiceFrame): void => {
      if (!sock.destroyed && sock.writable) sock.write(`${JSON.stringify(frame)}\n`);
    };
    sock.on('error', () => undefined);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.setTimeout(this.#opts.idleTimeoutMs ?? 60_000, () => {
      if (inFlight === 0) sock.destroy();
    });
    sock.on('data', (chunk: Buffer) => {
      if (refused) return;
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const part = chunk.subarray(start, nl);
        if (size + part.length > max) return refuse();
        const line = Buffer.concat([...buffered, part]).toString('utf8');
        buffered = [];
        size = 0;
        start = nl + 1;
        if (line.trim() !== '') void handle(line);
      }
      const rest = chunk.subarray(start);
      if (size + rest.length > max) return refuse();
      if (rest.length) {
        buffered.push(rest);
        size += rest.length;
      }
    });

    const refuse = (): void => {
      refused = true;
      buffered = [];
      send({ v: PROTOCOL_VERSION, id: null, ok: false, error: { code: 'usage', message: `frame too large: a request line may hold at most ${max} bytes` } });
      this.#opts.log(`control socket: refused a frame over ${max} bytes and closed that connection`);
      sock.end();
      setTimeout(() => sock.destroy(), 1_000).unref();
    };

    const handle = async (line: string): Promise<void> => {
      const parsed = parseControlRequest(line);
      if (!parsed.ok) {
        send({ v: PROTOCOL_VERSION, id: parsed.id, ok: false, error: { code: 'usage', message: parsed.reason } });
        return;
      }
      const { id } = parsed.request;
      inFlight += 1;
      try {
        const result = await this.#opts.handler(parsed.request, (progress) => send({ v: PROTOCOL_VERSION, id, progress }));
        send({ v: PROTOCOL_VERSION, id, ok: true, result: result ?? null });
      } catch (err) {
        const error = isAppError(err) ? { code: err.code, message: err.message.split('\n')[0] ?? err.code } : { code: 'internal', message: `internal error: ${describeError(err)}` };
        send({ v: PROTOCOL_VERSION, id, ok: false, error });
      } finally {
        inFlight -= 1;
      }
    };
  }
}
