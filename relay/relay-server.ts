// The tether relay: an ssh2 SSH server that authenticates appliances (serial + tunnel key) and
// engineers (registered keys), hands each to its connection handler, and owns the lifecycle of
// the listener, the heartbeat batcher and the teardown listener, and, in a fleet, its membership, the
// peer listener and its links to peers (fleet-*.ts). drain() leaves on purpose; close() just stops.
// Default deny throughout.
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import { AppError } from '../shared/errors.js';
import { closedBeforeReady, reassertConnected, serveAppliance, type ApplianceConnectionDeps } from './appliance-connection.js';
import { ApplianceRegistry } from './appliance-registry.js';
import { handleLogin, type Identity, type LoginDeps } from './connection-login.js';
import { assertCryptoBinding } from './crypto-check.js';
import type { EngineerChannelDeps } from './engineer-channel.js';
import { serveEngineer, type EngineerConnectionDeps } from './engineer-connection.js';
import { EngineerRoster } from './engineer-roster.js';
import { FleetCrossings } from './fleet-crossings.js';
import { PeerLinks } from './fleet-links.js';
import { FleetMember } from './fleet-member.js';
import { PEER_ENGINEER_PREFIX, PeerServer } from './fleet-peer-server.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import { relayActor, type RelayDeps } from './relay-deps.js';
import { drainRelay, type DrainReport } from './relay-drain.js';
import { generateSeed, openSshPrivateKeyFromSeed, rawPublicFromSeed } from '../shared/ssh-keys.js';
import { coalesceWritesPerRead, destroySocket } from './ssh2-internals.js';
import { TeardownListener } from './teardown-listener.js';
import { tellExpiry } from './expiry-notice.js';
import { holdConnection, startSshListener } from './ssh-listener.js';

export type { RelayDeps } from './relay-deps.js';

/**
 * AES-GCM only. The client's order decides among what both sides offer (RFC 4253 §7.1) and stock
 * OpenSSH lists chacha20 and AES-CTR before GCM, so offering those would make every engineer leg
 * chacha20: 3× the relay CPU per byte here (bench/README.md). Every OpenSSH since 6.2 and ssh2 have
 * GCM; a narrower offer is also less surface in the DMZ.
 */
export const RELAY_CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] as const;

/** Unauthenticated connections are dropped after this long. */
const LOGIN_GRACE_MS = 30_000;
/** After close() ended every connection, sockets still open this long later are destroyed. */
const CLOSE_GRACE_MS = 2_000;

export class RelayServer {
  private readonly registry = new ApplianceRegistry();
  private readonly connections = new Set<Connection>();
  private readonly heartbeats: HeartbeatBatcher;
  private readonly teardown: TeardownListener;
  private readonly roster: EngineerRoster;
  private readonly actor: string;
  private readonly loginDeps: LoginDeps;
  /** Shared by every connection handler (one object, not one per tunnel). */
  private readonly connDeps: ApplianceConnectionDeps;
  private readonly engineerDeps: EngineerConnectionDeps;
  private server: ssh2.Server | undefined;
  private unwatch: (() => void) | undefined;
  private starting = false;
  private closing: Promise<void> | undefined;
  private draining: Promise<DrainReport> | undefined;
  /** The peer listener's port, once started (fleet only). */
  peerPort: number | undefined;
  private listenerClosed: Promise<void> | undefined;
  /** The fleet's parts; all absent for a lone relay. */
  private readonly fleet: { member: FleetMember; peers: PeerServer; links: PeerLinks; crossings: FleetCrossings } | undefined;

  constructor(private readonly deps: RelayDeps) {
    this.actor = relayActor(deps);
    const escrow = deps.custody ? { custody: deps.custody, audit: deps.audit, actor: this.actor, now: deps.now, logger: deps.logger } : undefined;
    this.connDeps = { sessions: deps.sessions, registry: this.registry, relayId: deps.relayId, actor: this.actor, now: deps.now, logger: deps.logger, escrow };
    // Without metrics the byte totals still add up, in an object nobody reads.
    const bytes = deps.metrics?.bytes ?? { toAppliance: 0, fromAppliance: 0 };
    this.fleet = deps.fleet ? this.fleetParts(deps.fleet, { audit: deps.audit, bytes, now: deps.now, logger: deps.logger }) : undefined;
    if (deps.fleet) this.connDeps.moves = deps.fleet.store;
    this.engineerDeps = {
      ...this.connDeps,
      audit: deps.audit,
      engineers: deps.engineers,
      access: deps.access,
      engineerPolicy: deps.engineerPolicy,
      bytes,
      crossings: this.fleet?.crossings,
    };
    this.loginDeps = {
      sessions: deps.sessions,
      engineers: deps.engineers,
      audit: deps.audit,
      relayId: deps.relayId,
      actor: this.actor,
      now: deps.now,
      logger: deps.logger,
      metrics: deps.metrics,
      replicated: deps.replicated,
    };
    this.roster = new EngineerRoster({
      subscriber: deps.subscriber,
      channel: deps.engineers.channel,
      engineers: deps.engineers,
      audit: deps.audit,
      relayId: deps.relayId,
      now: deps.now,
      logger: deps.logger,
      endSessionChannels: (engineer, sid) => this.endSessionChannels(engineer, sid),
      endTicketChannels: (engineer, ticket) => this.endTicketChannels(engineer, ticket),
      sessionsWithChannels: (engineer) => this.sessionsWithChannels(engineer),
    });
    this.heartbeats = new HeartbeatBatcher({
      sessions: deps.sessions,
      registry: this.registry,
      flushMs: deps.heartbeatFlushMs,
      actor: this.actor,
      now: deps.now,
      logger: deps.logger,
    });
    this.teardown = new TeardownListener({
      subscriber: deps.subscriber,
      channel: deps.sessions.keys.events,
      sessions: deps.sessions,
      registry: this.registry,
      relayId: deps.relayId,
      logger: deps.logger,
      onLostWhileLive: (t) => void reassertConnected(t, this.connDeps),
      onClosed: (sid) => void this.fleet?.crossings.end(sid),
      onExtended: (t, expiresAt) => tellExpiry(t, expiresAt, deps.logger),
    });
  }

  /** This relay's fleet key is made here and lives only in memory: its public half is in the registration. */
  private fleetParts(fleet: NonNullable<RelayDeps['fleet']>, channel: EngineerChannelDeps): NonNullable<RelayServer['fleet']> {
    const d = this.deps;
    const seed = generateSeed();
    const links = new PeerLinks({ store: fleet.store, relayId: d.relayId, fleetPrivateKey: openSshPrivateKeyFromSeed(seed), ciphers: RELAY_CIPHERS, keepaliveMs: d.keepaliveMs, logger: d.logger });
    return {
      links,
      crossings: new FleetCrossings(links, channel),
      peers: new PeerServer({
        store: fleet.store,
        registry: this.registry,
        relayId: d.relayId,
        hostKey: d.hostKey,
        listen: fleet.peerListen,
        ciphers: RELAY_CIPHERS,
        keepaliveMs: d.keepaliveMs,
        channel,
        now: d.now,
        logger: d.logger,
      }),
      member: new FleetMember({
        store: fleet.store,
        id: d.relayId,
        hostKeyFp: d.hostKey.fingerprint,
        fleetKey: rawPublicFromSeed(seed).toString('base64'),
        renewMs: d.heartbeatFlushMs,
        load: () => ({ tunnels: this.tunnelCount, channels: this.engineerChannelCount }),
        now: d.now,
        logger: d.logger,
      }),
    };
  }

  /** Open SSH connections: appliances, engineers and logins still in progress. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of live appliance tunnels held by this relay. */
  get tunnelCount(): number {
    return this.registry.size;
  }

  /**
   * Engineer channels this relay carries for its own engineers: to its tunnels and crossing to other
   * relays; a peer's channel to a tunnel here is that peer's to count (read on scrape: O(tunnels)).
   */
  get engineerChannelCount(): number {
    let n = this.fleet?.crossings.channelCount ?? 0;
    for (const t of this.registry.values()) {
      if (!t.channels) continue;
      n += t.channels.size;
      if (this.fleet) for (const ch of t.channels) if (ch.engineer.startsWith(PEER_ENGINEER_PREFIX)) n--;
    }
    return n;
  }

  /** Checks the crypto binding, subscribes to teardown orders, listens; resolves to the bound port. */
  async start(): Promise<number> {
    if (this.starting || this.closing) throw new AppError('internal', 'relay was already started');
    assertCryptoBinding();
    this.starting = true;
    await this.teardown.start();
    await this.roster.start();
    const peerPort = await this.fleet?.peers.start().catch(async (err: unknown) => {
      await this.teardown.close();
      await this.roster.close();
      throw err;
    });
    let listener;
    try {
      listener = await startSshListener(this.deps, {
        name: 'relay listener',
        ident: 'tether-relay',
        ciphers: RELAY_CIPHERS,
        listen: this.deps.listen,
        onConnection: (conn, ip) => this.onConnection(conn, ip),
      });
    } catch (err) {
      await this.teardown.close();
      await this.roster.close();
      await this.fleet?.peers.close();
      throw err;
    }
    const { server, port } = listener;
    this.server = server;
    this.heartbeats.start();
    this.unwatch = this.deps.metrics?.watchRelay({ tunnels: () => this.tunnelCount, engineerChannels: () => this.engineerChannelCount });
    if (this.fleet && peerPort !== undefined) {
      await this.fleet.member.start({ host: this.deps.fleet?.peerHost ?? this.deps.fleet!.peerListen.host, port: peerPort });
      this.peerPort = peerPort;
    }
    this.deps.logger.info({ host: this.deps.listen.host, port, relayId: this.deps.relayId, peerPort }, 'relay listening');
    return port;
  }

  /**
   * Leaves on purpose (relay-drain.ts): no new logins, appliances sent to reconnect elsewhere (not a
   * LOST on their tickets), open engineer channels waited for up to `limitMs`. close() follows.
   */
  drain(limitMs: number): Promise<DrainReport> {
    this.draining ??= drainRelay(
      {
        registry: this.registry,
        sessions: this.deps.sessions,
        relayId: this.deps.relayId,
        stopListening: () => this.stopListening(),
        fleet: this.fleet && this.deps.fleet ? { draining: () => this.fleet!.member.draining(), markMoving: (s, r, t) => this.deps.fleet!.store.markMoving(s, r, t) } : undefined,
        crossingChannels: () => this.fleet?.crossings.channelCount ?? 0,
        endCrossings: () => this.fleet?.crossings.endAll(),
        now: this.deps.now,
        logger: this.deps.logger,
      },
      limitMs,
    );
    return this.draining;
  }

  /** Closes the public listener at once; resolves (later) when its last connection ended. */
  private stopListening(): void {
    const server = this.server;
    if (!server || this.listenerClosed) return;
    this.listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops listening, ends every tunnel and engineer connection, stops timers. Idempotent.
   * Sessions are not marked LOST here: like a crashed relay, the monitor finds them stale. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.unwatch?.();
    this.heartbeats.close();
    await this.teardown.close();
    await this.roster.close();
    await this.fleet?.member.close();
    this.fleet?.links.close();
    this.fleet?.crossings.endAll();
    for (const t of [...this.registry.values()]) this.registry.end(t, 'shutdown');
    for (const c of this.connections) c.end();
    await this.fleet?.peers.close();
    if (!this.server) return;
    this.stopListening();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        for (const c of this.connections) destroySocket(c);
      }, CLOSE_GRACE_MS);
      force.unref();
      void this.listenerClosed!.then(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** Sessions `engineer` has channels to here (to tunnels held here, or crossing to a peer), opening ones included. */
  private sessionsWithChannels(engineer: string): string[] {
    const sids = new Set<string>(this.fleet?.crossings.sessionsOf(engineer) ?? []);
    for (const t of this.registry.values()) if ([...(t.channels ?? [])].some((ch) => ch.engineer === engineer)) sids.add(t.sid);
    return [...sids];
  }

  /** Ends the engineer's channels here (direct or crossing) to sessions of `ticket` (SYSTEM:ID) they may no longer reach. */
  private async endTicketChannels(engineer: string, ticket: string): Promise<number> {
    let ended = 0;
    for (const sid of this.sessionsWithChannels(engineer)) {
      const s = await this.deps.sessions.get(sid);
      if (s?.ticket && `${s.ticket.system}:${s.ticket.id}` === ticket) ended += await this.endSessionChannels(engineer, sid);
    }
    return ended;
  }

  /**
   * A grant was withdrawn: ends `engineer`'s open channels to session `sid` (held here or crossing
   * this relay) unless they may still reach it (policy `all`, or the ticket's assignee).
   */
  private async endSessionChannels(engineer: string, sid: string): Promise<number> {
    const session = await this.deps.sessions.get(sid);
    if (session && (await this.deps.access.allowed(session, engineer, this.deps.engineerPolicy))) return 0;
    const tunnel = [...this.registry.values()].find((t) => t.sid === sid);
    const mine = [...(tunnel?.channels ?? [])].filter((ch) => ch.engineer === engineer);
    for (const ch of mine) {
      tunnel?.channels?.delete(ch);
      ch.destroy();
    }
    return mine.length + (this.fleet?.crossings.end(sid, engineer) ?? 0);
  }

  private onConnection(conn: Connection, ip: string): void {
    if (this.closing) {
      conn.on('error', () => undefined);
      conn.end();
      return;
    }
    const grace = holdConnection(conn, this.connections, { ip, graceMs: LOGIN_GRACE_MS, logger: this.deps.logger, errorLine: 'ssh connection error' });
    coalesceWritesPerRead(conn);
    let identity: Identity | undefined;
    handleLogin(conn, ip, this.loginDeps, (id) => (identity = id));
    conn.once('ready', () => {
      clearTimeout(grace);
      conn.removeAllListeners('authentication');
      // ssh2 still says ready when a login accepted after a Redis round trip finds its socket closed.
      const closed = !this.connections.has(conn);
      switch (identity?.kind) {
        case 'engineer':
          if (closed) return;
          this.deps.logger.info({ engineer: identity.name, ip }, 'engineer connected');
          this.roster.add({ name: identity.name, fingerprint: identity.fingerprint, conn });
          return serveEngineer(conn, identity, this.engineerDeps);
        case 'appliance':
          if (closed) return closedBeforeReady(identity, this.connDeps);
          serveAppliance(conn, identity, this.connDeps);
          return;
        default:
          conn.end(); // unreachable: ready follows only a signed accept, which sets the identity
      }
    });
  }
}
