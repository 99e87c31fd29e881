// Writes SSH packets that ssh2 has no call for, the way its Protocol writes its own (alloc,
// finalize, encrypt), on a Client's or a Connection's protocol: vendor global requests (the agent's
// password escrow, the relay's expiry notice) and the relay's auth banner. ssh2 private API
// (pinned ssh2 1.17.0): without the internals, or during a key re-exchange (ssh2 queues packets in
// its own way then), nothing is written and the caller hears false. Wire-level: the agent uses it.

interface PacketWriterLike {
  allocStart: number;
  alloc(size: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

/** The part of ssh2's Protocol this module uses (a Client's or a Connection's `_protocol`). */
export interface ProtocolInternals {
  _packetRW?: { write?: PacketWriterLike };
  _cipher?: { encrypt(packet: Buffer): void };
  _kexinit?: unknown;
}

const SSH_MSG_GLOBAL_REQUEST = 80;
const SSH_MSG_USERAUTH_BANNER = 53;

/** The protocol of an ssh2 Client or Connection, if it has the internals this module needs. */
export function protocolOf(endpoint: unknown): ProtocolInternals | undefined {
  return (endpoint as { _protocol?: ProtocolInternals } | undefined)?._protocol;
}

/** Builds the packet (`size` payload bytes from `at`) and sends it; false when it cannot be written now. */
function writePacket(proto: ProtocolInternals | undefined, size: number, fill: (packet: Buffer, at: number) => void): boolean {
  const writer = proto?._packetRW?.write;
  if (!proto || !writer || !proto._cipher || proto._kexinit !== undefined) return false;
  const packet = writer.alloc(size);
  fill(packet, writer.allocStart);
  proto._cipher.encrypt(writer.finalize(packet));
  return true;
}

/**
 * SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4): `name` (US-ASCII), want-reply, then the request's own data,
 * which must not be empty (ssh2 treats an empty request body as malformed).
 */
export function writeGlobalRequest(proto: ProtocolInternals | undefined, name: string, wantReply: boolean, data: Buffer): boolean {
  if (data.length === 0) return false;
  const nameBytes = Buffer.from(name, 'ascii');
  return writePacket(proto, 1 + 4 + nameBytes.length + 1 + data.length, (packet, at) => {
    let p = at;
    packet[p] = SSH_MSG_GLOBAL_REQUEST;
    packet.writeUInt32BE(nameBytes.length, ++p);
    nameBytes.copy(packet, (p += 4));
    packet[(p += nameBytes.length)] = wantReply ? 1 : 0;
    data.copy(packet, p + 1);
  });
}

/** SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4): the text, then an empty language tag. */
export function writeAuthBanner(proto: ProtocolInternals | undefined, text: string): boolean {
  const body = Buffer.from(text, 'utf8');
  return writePacket(proto, 1 + 4 + body.length + 4, (packet, at) => {
    let p = at;
    packet[p] = SSH_MSG_USERAUTH_BANNER;
    packet.writeUInt32BE(body.length, ++p);
    body.copy(packet, (p += 4));
    packet.writeUInt32BE(0, p + body.length);
  });
}
