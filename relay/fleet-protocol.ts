// How relays of one fleet talk to each other, in one place. A peer link is one SSH connection from a
// relay to another relay's peer listener (never its public port): user name = the dialling relay's
// id, public-key auth with the fleet key in its registration, the peer's host key pinned to the
// fingerprint in the peer's registration. Its only channel is `direct-tcpip` with host = serial,
// port = appliance port and originator address = session id: the holder opens it only to that
// session's live tunnel on that port, so a link never reaches more than a direct connection would.

/** What a channel over a peer link asks the holder for. */
export interface PeerChannelTarget {
  sid: string;
  serial: string;
  port: number;
}

/** `forwardOut` arguments (originator address, originator port, host, port) for a target. */
export function peerChannelArgs(t: PeerChannelTarget): [string, number, string, number] {
  return [t.sid, 0, t.serial, t.port];
}

/** Reads a target back from a `direct-tcpip` request on the peer listener. */
export function peerChannelTargetOf(info: { srcIP?: unknown; destIP?: unknown; destPort?: unknown }): PeerChannelTarget {
  return { sid: String(info.srcIP ?? ''), serial: String(info.destIP ?? ''), port: Number(info.destPort) };
}

/** How long a registration lives without renewal, for a renewal every `renewMs`. */
export function registrationTtlMs(renewMs: number): number {
  return Math.max(3 * renewMs, 5_000);
}

/** How long a draining relay's "moved on purpose" note waits for the agent to come back elsewhere. */
export const MOVE_NOTE_TTL_MS = 120_000;
