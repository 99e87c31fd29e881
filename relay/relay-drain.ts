// Drain: how a relay leaves on purpose (SIGTERM) without a LOST on any ticket. It stops taking
// logins, tells the fleet it is draining, notes every tunnel it holds as moving (so the relay the
// agent reconnects to takes the session over silently) with its heartbeat pushed forward (so the
// monitor does not call it lost while the agent reconnects), and ends each appliance connection as
// soon as no engineer channel uses it, at most DRAIN_MOVES_PER_S a second: the agent reconnects, to
// another endpoint of its key. Engineer channels (to tunnels here or crossing to a peer) are waited
// for up to the limit, then cut; what is left at the limit is sent on at once.
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { ApplianceRegistry } from './appliance-registry.js';
import { MOVE_NOTE_TTL_MS } from './fleet-protocol.js';

export interface DrainDeps {
  registry: ApplianceRegistry;
  sessions: SessionStore;
  relayId: string;
  /** Stops accepting connections; existing ones stay. */
  stopListening: () => void;
  /** The fleet: announce draining, note moves. Absent for a lone relay. */
  fleet?: { draining(): Promise<void>; markMoving(sids: readonly string[], relayId: string, ttlMs: number): Promise<void> } | undefined;
  /** Open engineer channels crossing from this relay to tunnels other relays hold. */
  crossingChannels: () => number;
  endCrossings: () => void;
  now: () => number;
  logger: Logger;
  /** How often the drain looks at what is left. */
  pollMs?: number;
  /** Appliances sent on per second at most (default DRAIN_MOVES_PER_S). */
  movesPerSecond?: number;
}

export interface DrainReport {
  /** Appliance connections ended so that their agents reconnect elsewhere. */
  moved: number;
  /** Engineer channels still open at the limit (cut). */
  cut: number;
  tookMs: number;
}

/** A moving session's heartbeat is pushed this far ahead: the agent's reconnect has that long. */
const MOVE_HEADROOM_MS = 60_000;
/**
 * Appliances are sent on at this pace, not all at once: every agent redials within about a second,
 * and the relays taking them over interleave all those key exchanges, so a batch of thousands
 * finishes late together and past the agents' 15 s handshake timeout (fleet-scale benchmark: 10,000
 * at once, nothing back for 10 s, 4,939 timeouts, 45 s in all). 1,000/s is ~2 CPU-s/s of key
 * exchanges spread over the other relays.
 */
export const DRAIN_MOVES_PER_S = 1_000;
/** The notes are not worth holding the drain for longer than this (Redis away). */
const NOTE_WAIT_MS = 1_000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function drainRelay(deps: DrainDeps, limitMs: number): Promise<DrainReport> {
  const started = deps.now();
  deps.stopListening();
  const tunnels = [...deps.registry.values()];
  const pollMs = deps.pollMs ?? 100;
  const perTick = Math.max(1, Math.ceil(((deps.movesPerSecond ?? DRAIN_MOVES_PER_S) * pollMs) / 1000));
  // The last appliance leaves tunnels / rate after the first: each has its reconnect's headroom after that.
  const headroomMs = MOVE_HEADROOM_MS + Math.ceil((tunnels.length / perTick) * pollMs);
  const sids = tunnels.map((t) => t.sid);
  // The fleet hears of it in the background; the notes must be in before any appliance is sent on.
  void deps.fleet?.draining();
  try {
    if (sids.length > 0) {
      await withinMs(
        (async () => {
          await deps.fleet?.markMoving(sids, deps.relayId, MOVE_NOTE_TTL_MS);
          await deps.sessions.touch(tunnels.filter((t) => t.connected).map((t) => t.sid), started + headroomMs);
        })(),
        NOTE_WAIT_MS,
      );
    }
  } catch (err) {
    // Without Redis the moves still happen; they may read as LOST on the tickets.
    deps.logger.warn({ err: describeError(err) }, 'drain could not note the moves in Redis');
  }
  deps.logger.info({ relayId: deps.relayId, tunnels: tunnels.length, limitMs }, 'relay draining');
  let moved = 0;
  /** Sends on up to one tick's share of the tunnels no engineer channel uses; how many idle ones are left. */
  const moveIdle = (): number => {
    let budget = perTick;
    let left = 0;
    for (const t of [...deps.registry.values()]) {
      if (t.channels?.size) continue;
      if (budget === 0) {
        left++;
        continue;
      }
      deps.registry.end(t, 'shutdown');
      moved++;
      budget--;
    }
    return left;
  };
  const open = () => {
    let n = deps.crossingChannels();
    for (const t of deps.registry.values()) n += t.channels?.size ?? 0;
    return n;
  };
  let idleLeft = moveIdle();
  while ((open() > 0 || idleLeft > 0) && deps.now() - started < limitMs) {
    await new Promise((r) => setTimeout(r, pollMs));
    idleLeft = moveIdle();
  }
  const cut = open();
  if (cut > 0) {
    deps.logger.warn({ channels: cut, limitMs }, 'drain limit reached: cutting the engineer channels still open');
    deps.endCrossings();
  }
  for (const t of [...deps.registry.values()]) {
    deps.registry.end(t, 'shutdown');
    moved++;
  }
  const report = { moved, cut, tookMs: deps.now() - started };
  deps.logger.info(report, 'relay drained');
  return report;
}
