// The only place that touches ssh2 private API (pinned ssh2 1.17.0). Everything here degrades to
// ssh2's public behaviour when the internals are absent; re-check it when upgrading ssh2.
import { createPrivateKey } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey } from 'ssh2';
import { protocolOf, writeAuthBanner, writeGlobalRequest } from '../shared/ssh2-packets.js';

/** RFC 4254 §5.1 reason codes for CHANNEL_OPEN_FAILURE. */
export const OPEN_FAILURE = {
  administrativelyProhibited: 1,
  connectFailed: 2,
  unknownChannelType: 3,
  resourceShortage: 4,
} as const;
export type OpenFailureCode = (typeof OPEN_FAILURE)[keyof typeof OPEN_FAILURE];

type ChannelOpenFail = (remote: number, reason: number, desc?: string) => unknown;
interface ProtocolLike {
  channelOpenFail?: ChannelOpenFail;
}
interface ConnectionInternals {
  _protocol?: ProtocolLike;
  _sock?: { destroy(): void };
}

/**
 * Rejects a pending channel open with a reason text the client can show.
 *
 * ssh2's `reject()` always sends an empty description (server.js, CHANNEL_OPEN handler), so stock
 * OpenSSH prints `open failed: connect failed:` with nothing after it. `reject()` calls
 * `_protocol.channelOpenFail(remote, reason, '')` synchronously, so for the duration of that one call
 * we shadow the method on this connection's protocol instance with one that substitutes our code
 * and text, and restore it straight after. Nothing stays patched; no per-connection memory is kept.
 */
export function rejectWithReason(
  conn: Connection,
  reject: () => void,
  text: string,
  code: OpenFailureCode = OPEN_FAILURE.administrativelyProhibited,
): void {
  const proto = (conn as unknown as ConnectionInternals)._protocol;
  const original = proto?.channelOpenFail;
  if (!proto || typeof original !== 'function') {
    reject(); // internals moved: the refusal still happens, only without the text
    return;
  }
  const hadOwn = Object.prototype.hasOwnProperty.call(proto, 'channelOpenFail');
  proto.channelOpenFail = (remote: number) => original.call(proto, remote, code, text);
  try {
    reject();
  } finally {
    if (hadOwn) proto.channelOpenFail = original;
    else delete proto.channelOpenFail;
  }
}

/**
 * Sends SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4) during authentication: the only way to give a
 * refused client a reason, since USERAUTH_FAILURE carries none. ssh2's server sends a banner only
 * once, from its static config. Skipped (returns false) during a key re-exchange or when the
 * internals are absent: the refusal still happens, only without the words.
 */
export function sendAuthBanner(conn: Connection, text: string): boolean {
  return writeAuthBanner(protocolOf(conn), text);
}

/**
 * Sends a vendor SSH_MSG_GLOBAL_REQUEST without want-reply (RFC 4254 §4) to a client: a notice the
 * client may ignore. ssh2's server has no call for it. False when it could not be written.
 */
export function sendGlobalNotice(conn: Connection, name: string, data: Buffer): boolean {
  return writeGlobalRequest(protocolOf(conn), name, false, data);
}

/** Drops the TCP socket under a connection at once (for shutdown, after a polite end() timed out). */
export function destroySocket(conn: Connection): void {
  (conn as unknown as ConnectionInternals)._sock?.destroy();
}

/**
 * The host key parsed once, with its private half as a KeyObject. ssh2 keeps the private key as
 * PEM text and hands it to crypto.sign() on every handshake, which re-parses it each time (1.4 ms
 * against 0.1 ms from a KeyObject: ~15% of a handshake's relay CPU). The PEM lives under a private
 * symbol; when it cannot be found the parsed key is returned as ssh2 made it.
 */
export function preparedHostKey(privateKeyText: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(privateKeyText);
  if (parsed instanceof Error) throw parsed;
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey & Record<symbol, unknown>;
  const pemSymbol = Object.getOwnPropertySymbols(key).find((sym) => sym.description === 'Private key PEM');
  const pem = pemSymbol ? key[pemSymbol] : undefined;
  if (pemSymbol && typeof pem === 'string') key[pemSymbol] = createPrivateKey(pem);
  return key;
}

type GlobalRequestHandler = (proto: unknown, name: string, wantReply: boolean, data: unknown) => void;
/** ssh2 emits 'request' (with accept/reject tied to its in-order reply queue) only for these. */
const CARRIER_REQUEST = 'cancel-streamlocal-forward@openssh.com';

/**
 * Lets this connection's 'request' listener see the vendor global requests in `names` (RFC 4254
 * §4 `name@domain`), with their raw data as a Buffer. ssh2's server answers every global request it
 * does not know with FAILURE and never emits it. Its handler is wrapped for this one connection: a
 * listed request is passed to ssh2's own handler under a name ssh2 emits (so the answer takes its
 * place in ssh2's reply queue: replies to pipelined requests, keepalives included, keep their order,
 * and an unauthenticated connection is still refused by ssh2), with `emit` shadowed for that one
 * synchronous call to restore the real name and data. Returns false (nothing changed: such requests
 * stay refused) when the internals are absent.
 */
export function routeVendorRequests(conn: Connection, names: readonly string[]): boolean {
  const proto = (conn as unknown as { _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } } })._protocol;
  const handlers = proto?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (!names.includes(name) || !Buffer.isBuffer(data)) return original(p, name, wantReply, data);
    const emitter = conn as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
    const emit = emitter.emit;
    const hadOwn = Object.prototype.hasOwnProperty.call(emitter, 'emit');
    emitter.emit = (event, ...args) => (event === 'request' ? emit.call(conn, 'request', args[0], args[1], name, data) : emit.call(conn, event, ...args));
    try {
      original(p, CARRIER_REQUEST, wantReply, { socketPath: '' });
    } finally {
      if (hadOwn) emitter.emit = emit;
      else delete (emitter as { emit?: unknown }).emit;
    }
  };
  return true;
}

/** Sockets whose writes are held until the end of the current event-loop turn (coalesceWrites). */
const corked = new WeakSet<object>();

interface CorkableSocket {
  cork(): void;
  uncork(): void;
  writable: boolean;
}

/**
 * Holds the writes of the socket under an ssh2 channel (server- or client-side) until the I/O of
 * this event-loop turn has been handled, so they leave in one writev: ssh2 writes each SSH packet
 * on its own, and one read from the other leg usually carries two or more packets, delivered in
 * separate ticks. Does nothing when the internals are absent.
 */
export function coalesceWrites(channel: unknown): void {
  corkThisTurn((channel as { _client?: { _sock?: Partial<CorkableSocket> } })._client?._sock);
}

/**
 * The same for the writes a connection makes while it handles what it read: a window adjust from
 * the far end releases up to a window of queued data packets at once, each its own write otherwise.
 */
export function coalesceWritesPerRead(conn: Connection): void {
  const sock = (conn as unknown as { _sock?: Partial<CorkableSocket> & { prependListener?: (e: 'data', fn: () => void) => void } })._sock;
  sock?.prependListener?.('data', () => corkThisTurn(sock));
}

function corkThisTurn(sock: Partial<CorkableSocket> | undefined): void {
  if (!sock || corked.has(sock) || typeof sock.cork !== 'function' || typeof sock.uncork !== 'function' || !sock.writable) return;
  const s = sock as CorkableSocket;
  corked.add(s);
  s.cork();
  setImmediate(() => {
    corked.delete(s);
    s.uncork();
  });
}
