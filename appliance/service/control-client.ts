// The client end of the control socket, for the CLI (and tests and benchmarks): connects, sends
// requests, hands progress frames to a callback and settles each request with its result or a
// coded AppError. No zod and nothing heavy, so `ktether enable` with a service running starts fast.
import { createConnection, type Socket } from 'node:net';
import { AppError, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import { PROTOCOL_VERSION, type ControlRequest, type Progress, type ServiceFrame } from './control-protocol.js';

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'v' | 'id'> : never) : never;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: AppError) => void;
  progress: ((p: Progress) => void) | undefined;
}

export interface ServiceConnection {
  request(body: RequestBody, onProgress?: (p: Progress) => void): Promise<unknown>;
  close(): void;
}

function codeOf(code: unknown): ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(code) ? (code as ErrorCode) : 'internal';
}

/** A connection to the running service, or undefined when none listens (no socket, or a stale one). */
export function connectService(path: string, timeoutMs = 2_000): Promise<ServiceConnection | undefined> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, timeoutMs);
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(wrap(sock));
    });
  });
}

function wrap(sock: Socket): ServiceConnection {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let rest = '';
  const failAll = (why: string): void => {
    for (const p of pending.values()) p.reject(new AppError('internal', why));
    pending.clear();
  };
  sock.setEncoding('utf8');
  sock.on('error', () => undefined);
  sock.on('close', () => failAll('the ktether service closed the connection before answering; see ktether.log in KTETHER_HOME'));
  sock.on('data', (chunk: string) => {
    rest += chunk;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      let frame: ServiceFrame;
      try {
        frame = JSON.parse(line) as ServiceFrame;
      } catch {
        continue;
      }
      if (frame.id === null) {
        // The service refused something it could not tie to a request: every open request fails with it.
        if ('error' in frame) for (const p of pending.values()) p.reject(new AppError(codeOf(frame.error.code), frame.error.message));
        pending.clear();
        continue;
      }
      const p = pending.get(frame.id);
      if (!p) continue;
      if ('progress' in frame) p.progress?.(frame.progress);
      else {
        pending.delete(frame.id);
        if (frame.ok) p.resolve(frame.result);
        else p.reject(new AppError(codeOf(frame.error.code), String(frame.error.message)));
      }
    }
  });
  return {
    request(body, onProgress) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, progress: onProgress });
        sock.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id, ...body })}\n`);
      });
    },
    close() {
      sock.end();
      sock.destroy();
    },
  };
}
