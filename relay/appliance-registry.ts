// Live appliance tunnels on this relay, in memory: serial (upper-cased) → the one current tunnel.
// Only sockets live here; session state lives in Redis. Kept small: the goal is ≤32 KiB of relay
// memory per idle tunnel, most of which is ssh2's own connection state.
import type { Connection } from 'ssh2';

/** A `tcpip-forward` the appliance asked for, kept verbatim: OpenSSH refuses a forwarded-tcpip
 * channel whose address or port differ from what it sent ("unknown listen_port"). */
export interface Binding {
  bindAddr: string;
  bindPort: number;
}

/** An open engineer channel, as far as teardown is concerned. */
export interface ChannelHandle {
  /** The engineer at the other end: a withdrawn grant ends only theirs. */
  readonly engineer: string;
  destroy(): void;
}

/** Why a tunnel ended: by the relay (replaced, closed, cancelled, shutdown) or by the network
 * (dropped). `undefined` while live. Only a dropped tunnel marks its session LOST. */
export type TunnelEnd = 'replaced' | 'closed' | 'cancelled' | 'shutdown' | 'dropped';

export interface Tunnel {
  readonly sid: string;
  readonly serial: string;
  readonly conn: Connection;
  readonly ports: readonly number[];
  expiresAt: number;
  /** port → binding; created on the first accepted forward. */
  bindings: Map<number, Binding> | undefined;
  /** Created on the first engineer channel; idle tunnels carry none. */
  channels: Set<ChannelHandle> | undefined;
  /** The connect transition has been applied for this connection. */
  connected: boolean;
  ended: TunnelEnd | undefined;
  /** Answers owed to the agent's `cancel-tcpip-forward` requests while their close is recorded. */
  cancelReplies: ((ok: boolean) => void)[] | undefined;
}

export function newTunnel(t: Pick<Tunnel, 'sid' | 'serial' | 'conn' | 'ports' | 'expiresAt'>): Tunnel {
  return { ...t, bindings: undefined, channels: undefined, connected: false, ended: undefined, cancelReplies: undefined };
}

export class ApplianceRegistry {
  private readonly bySerial = new Map<string, Tunnel>();

  /** Makes `t` the serial's tunnel; the previous one (if any) is ended as replaced and returned. */
  add(t: Tunnel): Tunnel | undefined {
    const key = t.serial.toUpperCase();
    const previous = this.bySerial.get(key);
    this.bySerial.set(key, t);
    if (previous && previous !== t) {
      this.end(previous, 'replaced');
      return previous;
    }
    return undefined;
  }

  /** Case-insensitive: `ssh -J` lower-cases the host name. */
  get(serial: string): Tunnel | undefined {
    return this.bySerial.get(serial.toUpperCase());
  }

  /** The tunnel of a session, if this relay holds it. */
  forSession(sid: string, serial: string): Tunnel | undefined {
    const t = this.get(serial);
    return t && t.sid === sid ? t : undefined;
  }

  /** Forgets `t` if it is still the serial's current tunnel. */
  remove(t: Tunnel): void {
    const key = t.serial.toUpperCase();
    if (this.bySerial.get(key) === t) this.bySerial.delete(key);
  }

  /**
   * Ends the appliance connection and every engineer channel to it, at once. Idempotent. A cancel
   * still being recorded is answered first (a reply after the connection ended is lost): yes when
   * the session is closed, which is what the agent asked for; no otherwise, and the agent asks again.
   */
  end(t: Tunnel, why: TunnelEnd): void {
    if (t.ended) return;
    t.ended = why;
    this.remove(t);
    destroyChannels(t);
    answerCancels(t, why === 'closed' || why === 'cancelled');
    t.conn.end();
  }

  values(): IterableIterator<Tunnel> {
    return this.bySerial.values();
  }

  get size(): number {
    return this.bySerial.size;
  }
}

/** Answers every pending `cancel-tcpip-forward` of `t`, in the order they came. */
export function answerCancels(t: Tunnel, ok: boolean): void {
  const replies = t.cancelReplies;
  t.cancelReplies = undefined;
  for (const reply of replies ?? []) reply(ok);
}

export function destroyChannels(t: Tunnel): void {
  if (!t.channels) return;
  const all = [...t.channels];
  t.channels.clear();
  for (const ch of all) ch.destroy();
}
