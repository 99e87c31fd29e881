// One engineer channel: opens `forwarded-tcpip` on the appliance connection, echoing the stored
// binding verbatim, then relays both ways with backpressure and half-close, counting bytes, and
// audits opened/closed. Policy (who may open what) is decided before this is called. A channel that
// crosses to a peer relay (the tunnel is held there) is relayed, counted and audited the same way on
// the engineer's relay, and neither counted nor audited by the peer: bytes are counted once.
import type { Channel, ServerChannel } from 'ssh2';
import type { Logger } from '../shared/logger.js';
import type { RelayByteTotals } from '../shared/metrics.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { Binding, ChannelHandle, Tunnel } from './appliance-registry.js';
import { OPEN_FAILURE, coalesceWrites, type OpenFailureCode } from './ssh2-internals.js';

export interface EngineerChannelDeps {
  audit: AuditLog;
  /** Relay-wide byte totals (metrics): plain numbers, added to per chunk. */
  bytes: RelayByteTotals;
  now: () => number;
  logger: Logger;
}

/** An engineer's ask for a channel to one port, whichever relay holds the tunnel: accepted once, or refused. */
export interface ChannelAsk {
  engineer: string;
  port: number;
  accept: () => ServerChannel;
  refuse: (reason: string, code: OpenFailureCode) => void;
  /** True once the engineer's own connection is gone (then nothing is accepted). */
  engineerGone: () => boolean;
}

/** A channel to a tunnel held here. */
export interface ChannelRequest extends ChannelAsk {
  tunnel: Tunnel;
  binding: Binding;
  originIP: string;
  originPort: number;
  /** Audit and count here (default); false when a peer relay carries it for its engineer and does both. */
  audited?: boolean;
}

/** Where a channel is listed for teardown: its tunnel, or on the engineer's relay the crossings to a tunnel a peer holds. */
export interface ChannelHome {
  readonly sid: string;
  readonly serial: string;
  channels: Set<ChannelHandle> | undefined;
}

/**
 * Listed on its home while a channel is being opened (the appliance or the peer has not answered
 * yet), so that ending the engineer's channels there (a withdrawn grant, a reassigned ticket, a
 * closed session) also stops the ones in flight: the open's answer then closes the far end.
 */
export class PendingChannel implements ChannelHandle {
  private cancelled = false;

  constructor(
    readonly engineer: string,
    private readonly home: ChannelHome,
  ) {
    (home.channels ??= new Set()).add(this);
  }

  destroy(): void {
    this.cancelled = true;
    this.home.channels?.delete(this);
  }

  /** Off the list once the open has its answer; true when it was ended meanwhile. */
  settle(): boolean {
    this.home.channels?.delete(this);
    return this.cancelled;
  }
}

/** A channel to a tunnel held by peer relay `via`: `far` is the channel the peer opened to it. */
export interface CrossingRequest {
  home: ChannelHome;
  engineer: string;
  port: number;
  via: string;
  accept: () => ServerChannel;
}

/** What a relayed channel is, for teardown and its audit entries. */
interface ChannelFacts {
  home: ChannelHome;
  engineer: string;
  port: number;
  via?: string | undefined;
  audited: boolean;
}

/** Where the byte counts of unaudited channels go (the peer that audits them counts them). */
const UNCOUNTED: RelayByteTotals = { toAppliance: 0, fromAppliance: 0 };

const EMPTY = Buffer.alloc(0);

/** One direction of the relay: src → dst. */
interface Leg {
  bytes: number;
  /** All of src's data was written to dst and dst got EOF. */
  flushed: boolean;
  srcClosed: boolean;
}

export function openEngineerChannel(req: ChannelRequest, deps: EngineerChannelDeps): void {
  const { tunnel, binding } = req;
  const pending = new PendingChannel(req.engineer, tunnel);
  tunnel.conn.forwardOut(binding.bindAddr, binding.bindPort, req.originIP, req.originPort, (err, app) => {
    const ended = pending.settle();
    if (err) {
      // The agent says why in its refusal (`connection refused on the appliance's 127.0.0.1:80`);
      // ssh2 hands that text over as "(SSH) Channel open failure: <text>". An older agent says nothing.
      const said = /^\(SSH\) Channel open failure: (.+)$/.exec(err.message)?.[1]?.trim().slice(0, 200);
      req.refuse(said ? `appliance ${tunnel.serial}, port ${req.port}: ${said}` : `appliance ${tunnel.serial} did not open port ${req.port}`, OPEN_FAILURE.connectFailed);
      return;
    }
    if (tunnel.ended || ended || req.engineerGone()) {
      app.on('error', () => undefined);
      app.close();
      if (!req.engineerGone()) req.refuse(tunnel.ended ? `tether of ${tunnel.serial} closed` : endedWhileOpening(tunnel.serial), OPEN_FAILURE.connectFailed);
      return;
    }
    const eng = req.accept();
    const audited = req.audited !== false;
    const ch = new EngineerChannel({ home: tunnel, engineer: req.engineer, port: req.port, audited }, eng, app, deps);
    (tunnel.channels ??= new Set()).add(ch);
    if (audited) auditOpened(ch.facts, deps);
  });
}

/** The engineer's side of a channel that crosses to the relay holding the tunnel. */
export function relayCrossingChannel(req: CrossingRequest, far: Channel, deps: EngineerChannelDeps): ChannelHandle {
  const eng = req.accept();
  const ch = new EngineerChannel({ home: req.home, engineer: req.engineer, port: req.port, via: req.via, audited: true }, eng, far, deps);
  (req.home.channels ??= new Set()).add(ch);
  auditOpened(ch.facts, deps);
  return ch;
}

/** The refusal of a channel whose access ended while it was being opened. */
export function endedWhileOpening(serial: string): string {
  return `access to the tether of ${serial} ended while the channel was opening`;
}

function auditOpened(f: ChannelFacts, deps: EngineerChannelDeps): void {
  const fields = { engineer: f.engineer, sid: f.home.sid, serial: f.home.serial, port: f.port, ...(f.via ? { via: f.via } : {}) };
  void deps.audit.append('engineer.channel.opened', fields, deps.now()).catch((e: unknown) => deps.logger.error({ err: e, sid: f.home.sid }, 'audit append failed'));
}

class EngineerChannel implements ChannelHandle {
  readonly engineer: string;
  private readonly openedAt: number;
  private readonly toAppliance: Leg = { bytes: 0, flushed: false, srcClosed: false };
  private readonly fromAppliance: Leg = { bytes: 0, flushed: false, srcClosed: false };
  private closes = 0;
  private discarding = false;

  constructor(
    readonly facts: ChannelFacts,
    private readonly eng: ServerChannel,
    private readonly app: Channel,
    private readonly deps: EngineerChannelDeps,
  ) {
    this.engineer = facts.engineer;
    this.openedAt = deps.now();
    this.relay(eng, app, this.toAppliance, 'toAppliance');
    this.relay(app, eng, this.fromAppliance, 'fromAppliance');
  }

  /** Teardown: both ends close now; unsent data is dropped. */
  destroy(): void {
    this.discarding = true;
    this.eng.resume();
    this.app.resume();
    this.eng.close();
    this.app.close();
  }

  private relay(src: Channel, dst: Channel, leg: Leg, direction: keyof RelayByteTotals): void {
    const totals = this.facts.audited ? this.deps.bytes : UNCOUNTED;
    // Same backpressure as stream.pipe (pause on a full write buffer, resume on drain), with the
    // byte count in the same listener and no copies: chunks go to ssh2 as they came.
    src.on('data', (chunk: Buffer) => {
      if (this.discarding) return;
      leg.bytes += chunk.length;
      totals[direction] += chunk.length;
      coalesceWrites(dst);
      if (!dst.write(chunk)) src.pause();
    });
    dst.on('drain', () => src.resume());
    // Half-close: EOF goes out only after everything before it was written (an empty write
    // completes in order). ssh2's end() would also send CLOSE and cut the reply short.
    src.once('end', () => {
      if (this.discarding || dst.writableEnded || dst.destroyed) return this.onFlushed(leg);
      dst.write(EMPTY, (err) => {
        if (!err) dst.eof();
        this.onFlushed(leg);
      });
    });
    src.on('error', (err: Error) => {
      this.deps.logger.debug({ err, sid: this.facts.home.sid }, 'engineer channel error');
      this.destroy();
    });
    src.once('close', () => {
      leg.srcClosed = true;
      this.settle();
      if (++this.closes === 2) this.finish();
    });
  }

  private onFlushed(leg: Leg): void {
    leg.flushed = true;
    this.settle();
  }

  /** Sends CLOSE once nothing more can flow (Channel.close() is idempotent). */
  private settle(): void {
    const up = this.toAppliance;
    const down = this.fromAppliance;
    if ((up.flushed && down.flushed) || (up.srcClosed && up.flushed)) this.app.close();
    if ((up.flushed && down.flushed) || (down.srcClosed && down.flushed)) this.eng.close();
  }

  private finish(): void {
    const { home, engineer, port, via, audited } = this.facts;
    home.channels?.delete(this);
    if (!audited) return;
    const fields = {
      engineer,
      sid: home.sid,
      serial: home.serial,
      port,
      ...(via ? { via } : {}),
      bytesToAppliance: this.toAppliance.bytes,
      bytesFromAppliance: this.fromAppliance.bytes,
      durationMs: this.deps.now() - this.openedAt,
    };
    void this.deps.audit
      .append('engineer.channel.closed', fields, this.deps.now())
      .catch((e: unknown) => this.deps.logger.error({ err: e, sid: home.sid }, 'audit append failed'));
  }
}
