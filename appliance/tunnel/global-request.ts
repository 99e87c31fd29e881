// Sends one vendor SSH global request (RFC 4254 §4: a `name@domain` request with want-reply) on a
// relay connection and waits for the answer. ssh2's Client sends only the global requests it knows,
// so the packet is written the way its Protocol writes `tcpip-forward` (shared/ssh2-packets.ts),
// and the answer is taken from the same in-order callback list ssh2 keeps for its own requests
// (keepalives included), so replies never pair with the wrong request. The only place in the agent
// that touches ssh2 private API (pinned ssh2 1.17.0): without the internals it fails, it never guesses.
import type { Client as SshClient } from 'ssh2';
import { protocolOf, writeGlobalRequest } from '../../shared/ssh2-packets.js';
import { isClosed } from './client-close.js';

interface ClientInternals {
  /** ssh2 shifts one per REQUEST_SUCCESS/FAILURE, and calls each with an Error when the connection closes. */
  _callbacks?: ((hadErr: unknown) => void)[];
}

/** `success` or `failure` as the server answered; rejects when there was no answer. */
export type GlobalReply = 'success' | 'failure';

export function sendGlobalRequest(client: SshClient, name: string, data: Buffer, timeoutMs: number): Promise<GlobalReply> {
  return new Promise((resolve, reject) => {
    const proto = protocolOf(client);
    const callbacks = (client as unknown as ClientInternals)._callbacks;
    if (isClosed(client)) return reject(new Error('connection to the relay closed'));
    if (!proto?._cipher || !proto._packetRW?.write || !Array.isArray(callbacks)) return reject(new Error('this ssh2 build cannot send a global request'));
    // During a key re-exchange ssh2 queues packets in its own way: not imitated, the caller retries.
    if (proto._kexinit !== undefined) return reject(new Error('key re-exchange in progress'));
    if (!writeGlobalRequest(proto, name, true, data)) return reject(new Error(`${name}: nothing to send`));

    let settled = false;
    const timer = setTimeout(() => settle(new Error(`no answer to ${name} within ${timeoutMs} ms`)), timeoutMs);
    const settle = (err: Error | undefined, reply?: GlobalReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(reply!);
    };
    // Pushed right after the write, with nothing in between: it is this request's place in the queue.
    // A late answer after a timeout still takes (and ignores) this place, keeping the order.
    callbacks.push((hadErr) => {
      if (hadErr === true) settle(undefined, 'failure');
      else if (hadErr) settle(hadErr instanceof Error ? hadErr : new Error(String(hadErr)));
      else settle(undefined, 'success');
    });
  });
}

interface ReceiverInternals {
  _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } };
}
type GlobalRequestHandler = (p: { requestSuccess(): void }, name: string, wantReply: boolean, data: unknown) => void;

/**
 * Hands the relay's vendor notices named in `names` (global requests from the server, e.g.
 * `expiry@tether`) to `onNotice` with their raw data. ssh2's Client answers every global request it
 * does not know with a failure and tells nobody, so its handler on this connection's protocol is
 * wrapped; every other request still goes to ssh2. False when the internals are absent (the notices
 * are then ignored, as an agent without this code would).
 */
export function listenForNotices(client: SshClient, names: readonly string[], onNotice: (name: string, data: Buffer) => void): boolean {
  const handlers = (client as unknown as ReceiverInternals)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (!names.includes(name) || !Buffer.isBuffer(data)) return original(p, name, wantReply, data);
    if (wantReply) p.requestSuccess();
    onNotice(name, data);
  };
  return true;
}
