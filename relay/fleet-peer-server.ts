// The peer listener: where other relays of the fleet open their link to this one. Admits only a
// registered relay proving its fleet key (no engineer, no appliance: those use the public port),
// and on a link only `direct-tcpip` to a session's live tunnel held here, on a port the appliance
// forwarded. Such a channel is relayed like an engineer's, but audited and counted by the relay the
// engineer is on. Everything else is refused.
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ServerChannel, TcpipRequestInfo } from 'ssh2';
import { describeError } from '../shared/errors.js';
import type { RelayHostKey } from '../shared/key/key-files.js';
import type { Logger } from '../shared/logger.js';
import { relayIdSchema, type RelayFleetStore } from '../shared/store/relay-fleet.store.js';
import type { ApplianceRegistry } from './appliance-registry.js';
import { openEngineerChannel, type EngineerChannelDeps } from './engineer-channel.js';
import { peerChannelTargetOf } from './fleet-protocol.js';
import { sameBytes, signatureAcceptable } from './public-key-check.js';
import { OPEN_FAILURE, rejectWithReason, type OpenFailureCode } from './ssh2-internals.js';
import { holdConnection, startSshListener } from './ssh-listener.js';

export interface PeerServerDeps {
  store: RelayFleetStore;
  registry: ApplianceRegistry;
  relayId: string;
  hostKey: RelayHostKey;
  listen: { host: string; port: number };
  ciphers: readonly string[];
  keepaliveMs: number;
  /** For relaying only: these channels are never audited or counted here. */
  channel: EngineerChannelDeps;
  now: () => number;
  logger: Logger;
}

/** A peer's channels are listed on the tunnel as this + the peer's id (engineer names have no ':'). */
export const PEER_ENGINEER_PREFIX = 'relay:';

const ED25519_RAW = 32;
const ED25519_BLOB_LENGTH = 4 + 'ssh-ed25519'.length + 4 + ED25519_RAW;
const LOGIN_GRACE_MS = 10_000;

export class PeerServer {
  private server: ssh2.Server | undefined;
  private readonly links = new Set<Connection>();

  constructor(private readonly deps: PeerServerDeps) {}

  async start(): Promise<number> {
    const { server, port } = await startSshListener(this.deps, {
      name: 'relay peer listener',
      ident: 'tether-relay-peer',
      ciphers: this.deps.ciphers,
      listen: { ...this.deps.listen, exclusive: true },
      onConnection: (conn, ip) => this.onConnection(conn, ip),
    });
    this.server = server;
    return port;
  }

  /** Stops listening and ends every peer link (and the channels they carry). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.links) c.end();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(conn: Connection, ip: string): void {
    let peer: string | undefined;
    const grace = holdConnection(conn, this.links, { ip, graceMs: LOGIN_GRACE_MS, logger: this.deps.logger, errorLine: 'peer link error' });
    conn.on('authentication', (ctx: AuthContext) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      void this.admit(ctx.username, ctx.key.algo, ctx.key.data, signatureAcceptable(ctx))
        .then((ok) => {
          if (!ok) {
            this.deps.logger.warn({ user: ctx.username, ip }, 'peer link refused: not a registered relay with this fleet key');
            return ctx.reject(['publickey']);
          }
          if (ctx.signature) peer = ctx.username;
          ctx.accept();
        })
        .catch((err: unknown) => {
          this.deps.logger.error({ err: describeError(err), ip }, 'peer login could not be decided');
          conn.end();
        });
    });
    conn.once('ready', () => {
      clearTimeout(grace);
      conn.removeAllListeners('authentication');
      if (!peer) return conn.end();
      const from = peer;
      this.deps.logger.info({ peer: from, ip }, 'peer link up');
      let gone = false;
      conn.once('close', () => (gone = true));
      conn.on('tcpip', (accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo) => this.onChannel(conn, from, accept, reject, info, () => gone));
      const refuse = (_accept: unknown, reject: () => void) => rejectWithReason(conn, reject, 'a peer link carries direct-tcpip to tunnels only');
      conn.on('session', refuse);
      conn.on('openssh.streamlocal', refuse);
    });
  }

  /** A registered relay other than this one, whose registration holds exactly this key. */
  private async admit(user: string, algo: string, blob: Buffer, signatureOk: boolean): Promise<boolean> {
    if (!signatureOk || algo !== 'ssh-ed25519' || blob.length !== ED25519_BLOB_LENGTH || user === this.deps.relayId || !relayIdSchema.safeParse(user).success) return false;
    const reg = await this.deps.store.get(user);
    if (!reg) return false;
    return sameBytes(blob.subarray(blob.length - ED25519_RAW), Buffer.from(reg.fleetKey, 'base64'));
  }

  private onChannel(conn: Connection, peer: string, accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo, gone: () => boolean): void {
    const target = peerChannelTargetOf(info);
    const refuse = (reason: string, code: OpenFailureCode = OPEN_FAILURE.connectFailed) => {
      this.deps.logger.info({ peer, sid: target.sid, port: target.port, reason }, 'peer channel refused');
      rejectWithReason(conn, reject, reason, code);
    };
    const tunnel = this.deps.registry.forSession(target.sid, target.serial);
    if (!tunnel || tunnel.ended || !tunnel.connected) return refuse(`tether of ${target.serial} is not held by relay ${this.deps.relayId}`);
    if (!tunnel.ports.includes(target.port)) return refuse(`port ${target.port} is not open for ${tunnel.serial}`, OPEN_FAILURE.administrativelyProhibited);
    const binding = tunnel.bindings?.get(target.port);
    if (!binding) return refuse(`appliance ${tunnel.serial} has not forwarded port ${target.port}`, OPEN_FAILURE.administrativelyProhibited);
    if (tunnel.expiresAt <= this.deps.now()) return refuse(`tether of ${tunnel.serial} has expired`);
    openEngineerChannel(
      { tunnel, engineer: `${PEER_ENGINEER_PREFIX}${peer}`, port: target.port, binding, originIP: '127.0.0.1', originPort: 0, accept, refuse, engineerGone: gone, audited: false },
      this.deps.channel,
    );
  }
}
