// What a relay needs from the outside world, injected by the entry point (or a test). The relay
// opens no Redis connection and reads no configuration itself.
import type { Redis } from 'ioredis';
import type { RelayHostKey } from '../shared/key/key-files.js';
import type { Logger } from '../shared/logger.js';
import type { RelayMeter } from '../shared/metrics.js';
import type { AccessStore, EngineerPolicy } from '../shared/store/access.store.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { EngineerDirectory } from '../shared/store/engineer.store.js';
import type { EscrowDepositStore } from '../shared/store/escrow-deposit.store.js';
import type { RedisKeys } from '../shared/store/redis-keys.js';
import type { RelayFleetStore } from '../shared/store/relay-fleet.store.js';
import type { SessionStore } from '../shared/store/session.store.js';

export interface RelayDeps {
  /** Sessions, and the Redis channel their events are published on (the teardown listener subscribes to it). */
  sessions: SessionStore & { readonly keys: Pick<RedisKeys, 'events'> };
  /** Engineers, and the Redis channel their withdrawals are announced on (the roster subscribes to it). */
  engineers: EngineerDirectory & { readonly channel: string };
  audit: AuditLog;
  /** Per-session authorisation: grants, the ticket's assignee. */
  access: AccessStore;
  /** `assigned`: only engineers granted the session or assigned its ticket; `all`: every registered engineer. */
  engineerPolicy: EngineerPolicy;
  /** A dedicated connection, used only to SUBSCRIBE to the session events channel. */
  subscriber: Redis;
  /** Where escrowed support passwords go, sealed as received; without it escrow requests are refused. */
  custody?: EscrowDepositStore | undefined;
  hostKey: RelayHostKey;
  listen: { host: string; port: number };
  /** SSH keepalive interval towards every client (ssh2 drops a client after 3 missed replies). */
  keepaliveMs: number;
  /** How often live tunnels' last-seen times are written to Redis, in one batch. */
  heartbeatFlushMs: number;
  /** Names this relay in session records and audit actors (`relay:<relayId>`). */
  relayId: string;
  now: () => number;
  logger: Logger;
  /** The process's metrics (bytes, auth failures, live tunnels and channels); none when absent. */
  metrics?: RelayMeter | undefined;
  /** Waits until this relay's writes are on the Redis replicas: an activation must survive a failover. */
  replicated?: (() => Promise<void>) | undefined;
  /** Membership of a relay fleet on this Redis; absent: a lone relay (channels to tunnels elsewhere are refused). */
  fleet?: FleetDeps | undefined;
}

export interface FleetDeps {
  store: RelayFleetStore;
  /** Where the peer listener binds (port 0: any free port). Keep it off the public network. */
  peerListen: { host: string; port: number };
  /** The host other relays dial to reach the peer listener (default: peerListen.host). */
  peerHost?: string | undefined;
}

/** The audit actor for everything this relay does on its own account. */
export function relayActor(deps: Pick<RelayDeps, 'relayId'>): string {
  return `relay:${deps.relayId}`;
}
