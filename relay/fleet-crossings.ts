// Engineer channels on this relay that cross to a tunnel another relay holds: opened over the peer
// link to the holder once every check of a direct channel passed here, relayed, counted and audited
// here, and listed by session so that a closed session, a withdrawn grant or a drain ends them.
import type { Logger } from '../shared/logger.js';
import { PendingChannel, relayCrossingChannel, endedWhileOpening, type ChannelAsk, type ChannelHome, type EngineerChannelDeps } from './engineer-channel.js';
import type { PeerLinks } from './fleet-links.js';
import { OPEN_FAILURE } from './ssh2-internals.js';

export interface CrossingRequest extends ChannelAsk {
  /** The relay that holds the session's tunnel (the session record's relayId). */
  holder: string;
  sid: string;
  serial: string;
}

/** Empty entries are swept once the map grows past this. */
const SWEEP_ABOVE = 256;

export class FleetCrossings {
  private readonly homes = new Map<string, ChannelHome>();

  constructor(
    private readonly links: PeerLinks,
    private readonly deps: EngineerChannelDeps & { logger: Logger },
  ) {}

  /** Checks passed: opens the channel at the holder and relays it. */
  async cross(req: CrossingRequest): Promise<void> {
    const pending = new PendingChannel(req.engineer, this.home(req.sid, req.serial));
    let far;
    try {
      far = await this.links.open(req.holder, { sid: req.sid, serial: req.serial, port: req.port });
    } catch (err) {
      pending.settle();
      return req.refuse((err as Error).message, OPEN_FAILURE.connectFailed);
    }
    const ended = pending.settle();
    if (ended || req.engineerGone()) {
      far.on('error', () => undefined);
      far.close();
      if (!req.engineerGone()) req.refuse(endedWhileOpening(req.serial), OPEN_FAILURE.connectFailed);
      return;
    }
    relayCrossingChannel({ home: this.home(req.sid, req.serial), engineer: req.engineer, port: req.port, via: req.holder, accept: req.accept }, far, this.deps);
  }

  /** Ends the channels crossing to session `sid` (all, or only `engineer`'s); returns how many. */
  end(sid: string, engineer?: string): number {
    const home = this.homes.get(sid);
    if (!home?.channels) return 0;
    if (engineer === undefined) {
      const all = [...home.channels];
      this.homes.delete(sid);
      home.channels.clear();
      for (const ch of all) ch.destroy();
      return all.length;
    }
    const mine = [...home.channels].filter((ch) => ch.engineer === engineer);
    for (const ch of mine) {
      home.channels.delete(ch);
      ch.destroy();
    }
    return mine.length;
  }

  /** Sessions the engineer has channels crossing to from here. */
  sessionsOf(engineer: string): string[] {
    return [...this.homes.values()].filter((h) => [...(h.channels ?? [])].some((ch) => ch.engineer === engineer)).map((h) => h.sid);
  }

  /** Ends every crossing channel (shutdown). */
  endAll(): void {
    for (const sid of [...this.homes.keys()]) this.end(sid);
  }

  /** Open crossing channels on this relay. */
  get channelCount(): number {
    let n = 0;
    for (const h of this.homes.values()) n += h.channels?.size ?? 0;
    return n;
  }

  private home(sid: string, serial: string): ChannelHome {
    let home = this.homes.get(sid);
    if (!home) {
      if (this.homes.size > SWEEP_ABOVE) for (const [k, h] of this.homes) if (!h.channels?.size) this.homes.delete(k);
      home = { sid, serial, channels: undefined };
      this.homes.set(sid, home);
    }
    return home;
  }
}
