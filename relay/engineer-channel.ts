// One engineer channel: opens `forwarded-tcpip` on the appliance connection, echoing the stored
// binding verbatim, then relays both ways with backpressure and half-close, counting bytes, and
// audits opened/closed. Policy (who may open what) is decided before this is called.
import type { ServerChannel } from 'ssh2';
import type { Logger } from '../shared/logger.js';
import type { RelayByteTotals } from '../shared/metrics.js';
import type { AuditStore } from '../shared/store/audit.store.js';
import type { Binding, ChannelHandle, Tunnel } from './appliance-registry.js';
import { OPEN_FAILURE, type OpenFailureCode } from './ssh2-internals.js';

export interface EngineerChannelDeps {
  audit: AuditStore;
  /** Relay-wide byte totals (metrics): plain numbers, added to per chunk. */
  bytes: RelayByteTotals;
  now: () => number;
  logger: Logger;
}

export interface ChannelRequest {
  tunnel: Tunnel;
  engineer: string;
  port: number;
  binding: Binding;
  originIP: string;
  originPort: number;
  accept: () => ServerChannel;
  refuse: (reason: string, code: OpenFailureCode) => void;
  /** True once the engineer's own connection is gone (then nothing is accepted). */
  engineerGone: () => boolean;
}

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
  tunnel.conn.forwardOut(binding.bindAddr, binding.bindPort, req.originIP, req.originPort, (err, app) => {
    if (err) {
      // The agent says why in its refusal (`connection refused on the appliance's 127.0.0.1:80`);
      // ssh2 hands that text over as "(SSH) Channel open failure: <text>". An older agent says nothing.
      const said = /^\(SSH\) Channel open failure: (.+)$/.exec(err.message)?.[1]?.trim().slice(0, 200);
      req.refuse(said ? `appliance ${tunnel.serial}, port ${req.port}: ${said}` : `appliance ${tunnel.serial} did not open port ${req.port}`, OPEN_FAILURE.connectFailed);
      return;
    }
    if (tunnel.ended || req.engineerGone()) {
      app.on('error', () => undefined);
      app.close();
      if (!req.engineerGone()) req.refuse(`tether of ${tunnel.serial} closed`, OPEN_FAILURE.connectFailed);
      return;
    }
    const eng = req.accept();
    const ch = new EngineerChannel(req, eng, app, deps);
    (tunnel.channels ??= new Set()).add(ch);
    void deps.audit
      .append('engineer.channel.opened', { engineer: req.engineer, sid: tunnel.sid, serial: tunnel.serial, port: req.port }, deps.now())
      .catch((e: unknown) => deps.logger.error({ err: e, sid: tunnel.sid }, 'audit append failed'));
  });
}

class EngineerChannel implements ChannelHandle {
  readonly engineer: string;
  private readonly openedAt: number;
  private readonly toAppliance: Leg = { bytes: 0, flushed: false, srcClosed: false };
  private readonly fromAppliance: Leg = { bytes: 0, flushed: false, srcClosed: false };
  private closes = 0;
  private discarding = false;

  constructor(
    private readonly req: ChannelRequest,
    private readonly eng: ServerChannel,
    private readonly app: ServerChannel,
    private readonly deps: EngineerChannelDeps,
  ) {
    this.engineer = req.engineer;
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

  private relay(src: ServerChannel, dst: ServerChannel, leg: Leg, direction: keyof RelayByteTotals): void {
    const totals = this.deps.bytes;
    // Same backpressure as stream.pipe (pause on a full write buffer, resume on drain), with the
    // byte count in the same listener and no copies: chunks go to ssh2 as they came.
    src.on('data', (chunk: Buffer) => {
      if (this.discarding) return;
      leg.bytes += chunk.length;
      totals[direction] += chunk.length;
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
      this.deps.logger.debug({ err, sid: this.req.tunnel.sid }, 'engineer channel error');
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
    const { tunnel, engineer, port } = this.req;
    tunnel.channels?.delete(this);
    const fields = {
      engineer,
      sid: tunnel.sid,
      serial: tunnel.serial,
      port,
      bytesToAppliance: this.toAppliance.bytes,
      bytesFromAppliance: this.fromAppliance.bytes,
      durationMs: this.deps.now() - this.openedAt,
    };
    void this.deps.audit
      .append('engineer.channel.closed', fields, this.deps.now())
      .catch((e: unknown) => this.deps.logger.error({ err: e, sid: tunnel.sid }, 'audit append failed'));
  }
}
