// The tether relay: an ssh2 SSH server that authenticates appliances (serial + tunnel key) and
// engineers (registered keys), hands each to its connection handler, and owns the lifecycle of
// the listener, the heartbeat batcher and the teardown listener. Default deny throughout.
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, PublicKeyAuthContext } from 'ssh2';
import { AppError, describeError } from '../shared/errors.js';
import type { SessionRecord } from '../shared/session/session.schema.js';
import { engineerNameSchema } from '../shared/store/engineer.store.js';
import { authenticateAppliance, type ApplianceIdentity } from './appliance-auth.js';
import { reassertConnected, serveAppliance, type ApplianceConnectionDeps } from './appliance-connection.js';
import { ApplianceRegistry } from './appliance-registry.js';
import { assertCryptoBinding } from './crypto-check.js';
import { authenticateEngineer, type EngineerIdentity } from './engineer-auth.js';
import { serveEngineer, type EngineerConnectionDeps } from './engineer-connection.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import type { AuthOutcome } from './public-key-check.js';
import { relayActor, type RelayDeps } from './relay-deps.js';
import { destroySocket, preparedHostKey } from './ssh2-internals.js';
import { TeardownListener } from './teardown-listener.js';

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
/** Refused authentication attempts tolerated per connection before it is dropped. */
const MAX_AUTH_REFUSALS = 10;
/** After close() ended every connection, sockets still open this long later are destroyed. */
const CLOSE_GRACE_MS = 2_000;

type Identity = EngineerIdentity | ApplianceIdentity;

export class RelayServer {
  private readonly registry = new ApplianceRegistry();
  private readonly connections = new Set<Connection>();
  private readonly heartbeats: HeartbeatBatcher;
  private readonly teardown: TeardownListener;
  private readonly actor: string;
  /** Shared by every connection handler (one object, not one per tunnel). */
  private readonly connDeps: ApplianceConnectionDeps;
  private readonly engineerDeps: EngineerConnectionDeps;
  private server: ssh2.Server | undefined;
  private starting = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: RelayDeps) {
    this.actor = relayActor(deps);
    this.connDeps = { sessions: deps.sessions, registry: this.registry, relayId: deps.relayId, actor: this.actor, now: deps.now, logger: deps.logger };
    this.engineerDeps = { ...this.connDeps, audit: deps.audit };
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
      sessions: deps.sessions,
      registry: this.registry,
      logger: deps.logger,
      onLostWhileLive: (t) => void reassertConnected(t, this.connDeps),
    });
  }

  /** Number of live appliance tunnels held by this relay. */
  get tunnelCount(): number {
    return this.registry.size;
  }

  /** Checks the crypto binding, subscribes to teardown orders, listens; resolves to the bound port. */
  async start(): Promise<number> {
    if (this.starting || this.closing) throw new AppError('internal', 'relay was already started');
    assertCryptoBinding();
    this.starting = true;
    await this.teardown.start();
    const server = new ssh2.Server(
      {
        hostKeys: [{ key: preparedHostKey(this.deps.hostKey.privateKey) }],
        algorithms: { cipher: [...RELAY_CIPHERS] },
        keepaliveInterval: this.deps.keepaliveMs,
        keepaliveCountMax: 3,
        ident: 'tether-relay',
      },
      (conn, info) => this.onConnection(conn, info.ip),
    );
    server.on('error', (err: Error) => this.deps.logger.error({ err }, 'relay listener error'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.deps.listen.port, this.deps.listen.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.teardown.close();
      throw new AppError('internal', `relay cannot listen on ${this.deps.listen.host}:${this.deps.listen.port}`, { cause: err });
    }
    this.server = server;
    this.heartbeats.start();
    const port = (server.address() as AddressInfo).port;
    this.deps.logger.info({ host: this.deps.listen.host, port, relayId: this.deps.relayId }, 'relay listening');
    return port;
  }

  /** Stops listening, ends every tunnel and engineer connection, stops timers. Idempotent.
   * Sessions are not marked LOST here: like a crashed relay, the monitor finds them stale. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.heartbeats.close();
    await this.teardown.close();
    for (const t of [...this.registry.values()]) this.registry.end(t, 'shutdown');
    for (const c of this.connections) c.end();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        for (const c of this.connections) destroySocket(c);
      }, CLOSE_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private onConnection(conn: Connection, ip: string): void {
    if (this.closing) {
      conn.on('error', () => undefined);
      conn.end();
      return;
    }
    this.connections.add(conn);
    let identity: Identity | undefined;
    let refusals = 0;
    // Clients ask "would you take this key?" before signing with it: one session look-up serves both.
    let lastLookup: { raw: Buffer; session: Promise<SessionRecord | null> } | undefined;
    const findSession = (raw: Buffer) => {
      if (!lastLookup || !lastLookup.raw.equals(raw)) lastLookup = { raw, session: this.deps.sessions.findByCredential(raw) };
      return lastLookup.session;
    };
    const grace = setTimeout(() => conn.end(), LOGIN_GRACE_MS);
    grace.unref();
    conn.on('error', (err: Error) => this.deps.logger.debug({ err: err.message, ip }, 'ssh connection error'));
    conn.once('close', () => {
      clearTimeout(grace);
      this.connections.delete(conn);
    });
    conn.on('authentication', (ctx: AuthContext) => {
      switch (ctx.method) {
        case 'publickey':
          void this.onPublicKey(
            ctx,
            ip,
            findSession,
            (id) => (identity = id),
            () => ++refusals >= MAX_AUTH_REFUSALS && conn.end(),
            () => conn.end(),
          );
          return;
        default:
          // 'none' (OpenSSH's opening probe), password, keyboard-interactive, hostbased: refused.
          ctx.reject(['publickey']);
      }
    });
    conn.once('ready', () => {
      clearTimeout(grace);
      lastLookup = undefined;
      conn.removeAllListeners('authentication');
      switch (identity?.kind) {
        case 'engineer':
          this.deps.logger.info({ engineer: identity.name, ip }, 'engineer connected');
          return serveEngineer(conn, identity.name, this.engineerDeps);
        case 'appliance':
          serveAppliance(conn, identity, this.connDeps);
          return;
        default:
          conn.end(); // unreachable: ready follows only a signed accept, which sets the identity
      }
    });
  }

  private async onPublicKey(
    ctx: PublicKeyAuthContext,
    ip: string,
    findSession: (raw: Buffer) => Promise<SessionRecord | null>,
    setIdentity: (id: Identity) => void,
    onRefused: () => void,
    endOnInternalError: () => void,
  ): Promise<void> {
    let outcome: AuthOutcome<Identity>;
    try {
      outcome = await this.decide(ctx, findSession);
    } catch (err) {
      // Not a refusal: an agent reads an auth failure as "key no longer valid" and stops for good.
      // Dropping the connection instead makes it retry, as for any transient fault (Redis blip).
      this.deps.logger.error({ err: describeError(err), user: ctx.username, ip }, 'authentication failed on an internal error; dropping the connection');
      endOnInternalError();
      return;
    }
    if (outcome.kind === 'refuse') {
      this.deps.logger.info({ user: ctx.username, ip, reason: outcome.reason }, 'authentication refused');
      ctx.reject(['publickey']);
      onRefused();
      return;
    }
    // The identity must be set before accept(): ssh2 emits 'ready' synchronously inside it.
    if (ctx.signature) setIdentity(outcome.identity);
    ctx.accept();
  }

  /** A registered engineer name means engineer auth; any other user name is taken as a serial. */
  private async decide(ctx: PublicKeyAuthContext, findSession: (raw: Buffer) => Promise<SessionRecord | null>): Promise<AuthOutcome<Identity>> {
    // Serials that cannot be engineer names (upper case, usually) skip the registry round trip.
    const engineer = engineerNameSchema.safeParse(ctx.username).success ? await this.deps.engineers.get(ctx.username) : null;
    if (engineer) return authenticateEngineer(ctx, engineer);
    return authenticateAppliance(ctx, { sessions: this.deps.sessions, findSession, now: this.deps.now, actor: this.actor });
  }
}
