// Opens (and at once closes) a TCP connection, for `doctor`: does anything accept on HOST:PORT?
import { connect } from 'node:net';

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (r: { ok: true } | { ok: false; error: string }): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, error: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err) => finish({ ok: false, error: err.message }));
  });
}
