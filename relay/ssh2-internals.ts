// The only place that touches ssh2 private API (pinned ssh2 1.17.0). Everything here degrades to
// ssh2's public behaviour when the internals are absent; re-check it when upgrading ssh2.
import { createPrivateKey } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey } from 'ssh2';

/** RFC 4254 §5.1 reason codes for CHANNEL_OPEN_FAILURE. */
export const OPEN_FAILURE = {
  administrativelyProhibited: 1,
  connectFailed: 2,
  unknownChannelType: 3,
  resourceShortage: 4,
} as const;
export type OpenFailureCode = (typeof OPEN_FAILURE)[keyof typeof OPEN_FAILURE];

type ChannelOpenFail = (remote: number, reason: number, desc?: string) => unknown;
interface PacketWriterLike {
  allocStart: number;
  alloc(size: number): Buffer;
  finalize(packet: Buffer): Buffer;
}
interface ProtocolLike {
  channelOpenFail?: ChannelOpenFail;
  _packetRW?: { write?: PacketWriterLike };
  _cipher?: { encrypt(packet: Buffer): void };
  _kexinit?: unknown;
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

const USERAUTH_BANNER = 53;

/**
 * Sends SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4) during authentication: the only way to give a
 * refused client a reason, since USERAUTH_FAILURE carries none. ssh2's server sends a banner only
 * once, from its static config, so the packet is written here the way ssh2's Protocol writes its
 * own (alloc, finalize, encrypt). Skipped (returns false) during a key re-exchange or when the
 * internals are absent: the refusal still happens, only without the words.
 */
export function sendAuthBanner(conn: Connection, text: string): boolean {
  const proto = (conn as unknown as ConnectionInternals)._protocol;
  const writer = proto?._packetRW?.write;
  if (!proto || !writer || !proto._cipher || proto._kexinit !== undefined) return false;
  const body = Buffer.from(text, 'utf8');
  let p = writer.allocStart;
  const packet = writer.alloc(1 + 4 + body.length + 4);
  packet[p] = USERAUTH_BANNER;
  packet.writeUInt32BE(body.length, ++p);
  body.copy(packet, (p += 4));
  packet.writeUInt32BE(0, p + body.length); // empty language tag
  proto._cipher.encrypt(writer.finalize(packet));
  return true;
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
