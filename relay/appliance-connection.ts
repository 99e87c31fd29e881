// An authenticated appliance connection: registers its tunnel (replacing an older one), keeps the
// session's forwards as virtual bindings, turns a cancelled forward into "customer disabled",
// refuses every channel, and marks the session LOST on a drop. An activation registers at once (its
// transition was made at login); a reconnect registers, and applies the connect transition, only
// with its first accepted forward, so a login that asks for anything else (exec, shell) never
// displaces the live tunnel. A connection that forwards nothing is ended after FORWARD_GRACE_MS.
// Its one other request is the password escrow (password-escrow.ts). After the first accepted forward
// the agent is told the session's current expiry (expiry-notice.ts). A reconnect that takes the
// session over from another relay records it LOST first, unless that relay drained and sent it here.
import type { Connection } from 'ssh2';
import { isAppError } from '../shared/errors.js';
import { ESCROW_REQUEST } from '../shared/key/password-escrow.js';
import type { Logger } from '../shared/logger.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { ApplianceIdentity } from './appliance-auth.js';
import { answerCancels, destroyChannels, newTunnel, type ApplianceRegistry, type Tunnel } from './appliance-registry.js';
import { tellExpiry } from './expiry-notice.js';
import { onEscrow, type EscrowDeps } from './password-escrow.js';
import { rejectWithReason, routeVendorRequests } from './ssh2-internals.js';

export interface ApplianceConnectionDeps {
  sessions: SessionStore;
  registry: ApplianceRegistry;
  relayId: string;
  actor: string;
  now: () => number;
  logger: Logger;
  /** Password escrow (custody deposit and audit); without it escrow requests are refused. */
  escrow?: EscrowDeps | undefined;
  /** The fleet's notes of tunnels a draining relay sent away on purpose (RelayFleetStore). */
  moves?: { takeMoving(sid: string): Promise<string | null> } | undefined;
}

type Reply = (() => void) | undefined;
type AcceptForward = ((port?: number) => void) | undefined;
interface ForwardInfo {
  bindAddr?: string;
  bindPort?: number;
}

/** A reconnect that has not asked for a forward by then is ended. */
const FORWARD_GRACE_MS = 30_000;

const NO_SESSION_CHANNELS = 'the relay grants appliances no shell, exec or subsystem';
const NO_OUTBOUND = 'appliances may not open connections through the relay';
const NO_STREAMLOCAL = 'unix socket forwarding is not offered';

export function serveAppliance(conn: Connection, id: ApplianceIdentity, deps: ApplianceConnectionDeps): Tunnel {
  const tunnel = newTunnel({ sid: id.sid, serial: id.serial, conn, ports: id.ports, expiresAt: id.expiresAt });
  let registered = false;
  let toldExpiry = false;
  let grace: NodeJS.Timeout | undefined;
  const register = (): void => {
    if (registered || tunnel.ended) return;
    registered = true;
    clearTimeout(grace);
    const replaced = deps.registry.add(tunnel);
    if (replaced) deps.logger.info({ sid: id.sid, serial: id.serial }, 'appliance reconnected: older connection replaced');
    if (id.activated) {
      tunnel.connected = true;
      deps.logger.info({ sid: id.sid, serial: id.serial, outcome: 'activated' }, 'tunnel up');
      void endIfClosed(tunnel, deps);
    } else {
      void connect(tunnel, deps);
    }
  };
  if (id.activated) register();
  else {
    grace = setTimeout(() => {
      deps.logger.info({ sid: id.sid, serial: id.serial }, 'appliance login asked for no forward: ending it');
      conn.end();
    }, FORWARD_GRACE_MS);
    grace.unref();
  }

  routeVendorRequests(conn, [ESCROW_REQUEST]);
  conn.on('request', (accept: AcceptForward, reject: Reply, name: string, info: ForwardInfo) => {
    switch (name) {
      case 'tcpip-forward':
        if (!onForward(tunnel, accept, reject, info, deps)) return;
        register();
        // The agent listens for notices before it asks for forwards: the first accepted one is the moment.
        if (!toldExpiry) {
          toldExpiry = true;
          tellExpiry(tunnel, tunnel.expiresAt, deps.logger);
        }
        return;
      case 'cancel-tcpip-forward':
        // Only the tunnel that holds the session may end it.
        if (!registered || tunnel.ended) return reject?.();
        return void onCancel(tunnel, accept, reject, deps);
      case ESCROW_REQUEST: {
        // Only the tunnel that holds the session may escrow its password.
        const isTunnel = registered && !tunnel.ended && deps.registry.forSession(tunnel.sid, tunnel.serial) === tunnel;
        return void onEscrow({ sid: tunnel.sid, serial: tunnel.serial, conn, isTunnel, data: info, accept, reject }, deps.escrow);
      }
      default:
        deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial, request: name }, 'appliance request refused');
        reject?.();
    }
  });
  conn.on('session', (_accept: unknown, reject: () => void) => refuseChannel(conn, reject, NO_SESSION_CHANNELS, tunnel, deps));
  conn.on('tcpip', (_accept: unknown, reject: () => void) => refuseChannel(conn, reject, NO_OUTBOUND, tunnel, deps));
  conn.on('openssh.streamlocal', (_accept: unknown, reject: () => void) => refuseChannel(conn, reject, NO_STREAMLOCAL, tunnel, deps));
  conn.once('close', () => {
    clearTimeout(grace);
    if (tunnel.ended || !registered) return;
    tunnel.ended = 'dropped';
    deps.registry.remove(tunnel);
    destroyChannels(tunnel);
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'appliance connection dropped');
    if (tunnel.connected) void markLost(tunnel, deps);
  });
  return tunnel;
}

/**
 * The login's activation made the session CONNECTED, but the connection closed before ssh2 said
 * ready (the accept waited on Redis): nothing will register or drop a tunnel, so the session is LOST
 * now, as if the tunnel had dropped. A reconnect had made no transition yet: nothing to undo.
 */
export function closedBeforeReady(id: ApplianceIdentity, deps: ApplianceConnectionDeps): void {
  deps.logger.info({ sid: id.sid, serial: id.serial }, 'appliance connection closed during its login');
  if (!id.activated) return;
  void markLost(id, deps);
}

/**
 * An activation registers its tunnel after the transition that made the session CONNECTED; a close
 * recorded in between (revoked, superseded, expired) found no tunnel to end. Read once more.
 */
async function endIfClosed(tunnel: Tunnel, deps: ApplianceConnectionDeps): Promise<void> {
  try {
    const s = await deps.sessions.get(tunnel.sid);
    if (s && s.state !== 'CLOSED') return;
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'session closed while its activation came up: ending the tunnel');
    deps.registry.end(tunnel, 'closed');
  } catch (err) {
    deps.logger.error({ err, sid: tunnel.sid }, 'could not re-read the activated session');
  }
}

async function connect(tunnel: Tunnel, deps: ApplianceConnectionDeps): Promise<void> {
  try {
    if (deps.moves) await recordTakeover(tunnel, deps, deps.moves);
    const r = await deps.sessions.apply(tunnel.sid, 'connect', { actor: deps.actor, relayId: deps.relayId, now: deps.now() });
    tunnel.connected = true;
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial, outcome: r.outcome }, 'tunnel up');
    // Dropped while the transition was in flight: the session must not stay CONNECTED.
    if (tunnel.ended === 'dropped') await markLost(tunnel, deps);
  } catch (err) {
    if (isAppError(err, 'session_closed') || isAppError(err, 'session_not_found')) {
      deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'appliance refused: session is closed');
    } else {
      deps.logger.error({ err, sid: tunnel.sid }, 'connect transition failed; ending the appliance connection');
    }
    deps.registry.end(tunnel, 'closed');
  }
}

/**
 * The session is CONNECTED on another relay that did not send it here (it crashed, or lost the
 * connection and has not noticed yet): the interruption is a LOST, as if that relay had seen it, and
 * the connect that follows makes it CONNECTED here. A draining relay's note makes a move silent.
 * The LOST event names this relay, so the old holder ends its stale tunnel instead of reclaiming it.
 */
async function recordTakeover(tunnel: Tunnel, deps: ApplianceConnectionDeps, moves: NonNullable<ApplianceConnectionDeps['moves']>): Promise<void> {
  const s = await deps.sessions.get(tunnel.sid);
  if (!s || s.state !== 'CONNECTED' || !s.relayId || s.relayId === deps.relayId) return;
  if ((await moves.takeMoving(tunnel.sid)) === s.relayId) return;
  try {
    await deps.sessions.apply(tunnel.sid, 'lose', { actor: deps.actor, relayId: deps.relayId, now: deps.now() });
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial, from: s.relayId }, 'session taken over from a relay that did not hand it over: LOST first');
  } catch (err) {
    if (!isAppError(err, 'illegal_transition')) throw err;
  }
}

/**
 * A live tunnel whose session was marked LOST (the monitor saw no heartbeat while Redis was out of
 * reach, or a replaced connection's late drop) is declared CONNECTED again: the socket is up, and
 * the agent has no reason to reconnect.
 */
export async function reassertConnected(tunnel: Tunnel, deps: ApplianceConnectionDeps): Promise<void> {
  if (tunnel.ended) return;
  try {
    await deps.sessions.apply(tunnel.sid, 'connect', { actor: deps.actor, relayId: deps.relayId, now: deps.now() });
    tunnel.connected = true;
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'session marked LOST while its tunnel is up: CONNECTED again');
  } catch (err) {
    if (isAppError(err, 'session_closed') || isAppError(err, 'session_not_found')) deps.registry.end(tunnel, 'closed');
    else deps.logger.error({ err, sid: tunnel.sid }, 'reconnect transition failed');
  }
}

/** True when the forward was accepted. */
function onForward(tunnel: Tunnel, accept: AcceptForward, reject: Reply, info: ForwardInfo, deps: ApplianceConnectionDeps): boolean {
  const { bindAddr, bindPort } = info;
  if (tunnel.ended || typeof bindAddr !== 'string' || typeof bindPort !== 'number' || !tunnel.ports.includes(bindPort)) {
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial, port: bindPort }, 'appliance forward refused: port not in the session');
    reject?.();
    return false;
  }
  // Virtual: no port is opened on the relay. Stored verbatim for the forwarded-tcpip echo.
  (tunnel.bindings ??= new Map()).set(bindPort, { bindAddr, bindPort });
  accept?.(bindPort);
  return true;
}

/**
 * The agent cancels its forwards only on `ktether disable`: the customer ended the tether. The
 * answer waits in the tunnel until the close is recorded: the CLOSED event of this very close can
 * end the tunnel first (the subscriber's message may come in before the command's reply), and
 * ending it answers the cancel before the connection goes.
 */
async function onCancel(tunnel: Tunnel, accept: Reply, reject: Reply, deps: ApplianceConnectionDeps): Promise<void> {
  (tunnel.cancelReplies ??= []).push((ok) => (ok ? accept?.() : reject?.()));
  try {
    await deps.sessions.close(tunnel.sid, 'customer_disabled', `appliance:${tunnel.serial}`, deps.now());
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'customer disabled the tether');
  } catch (err) {
    if (!isAppError(err, 'session_closed') && !isAppError(err, 'session_not_found')) {
      deps.logger.error({ err, sid: tunnel.sid }, 'customer disable could not be recorded');
      answerCancels(tunnel, false); // the agent retries; the tunnel stays as it was
      return;
    }
  }
  answerCancels(tunnel, true);
  deps.registry.end(tunnel, 'cancelled');
}

async function markLost(tunnel: Pick<Tunnel, 'sid' | 'serial'>, deps: ApplianceConnectionDeps): Promise<void> {
  try {
    const s = await deps.sessions.get(tunnel.sid);
    // Only this relay's own, unreplaced tunnel may declare the session lost.
    if (!s || s.state !== 'CONNECTED' || (s.relayId && s.relayId !== deps.relayId)) return;
    const current = deps.registry.get(tunnel.serial);
    if (current && current.sid === tunnel.sid) return;
    await deps.sessions.apply(tunnel.sid, 'lose', { actor: deps.actor, relayId: deps.relayId, now: deps.now() });
    deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'session lost');
  } catch (err) {
    if (isAppError(err, 'illegal_transition') || isAppError(err, 'session_closed') || isAppError(err, 'session_not_found')) return;
    deps.logger.error({ err, sid: tunnel.sid }, 'lose transition failed');
  }
}

function refuseChannel(conn: Connection, reject: () => void, text: string, tunnel: Tunnel, deps: ApplianceConnectionDeps): void {
  deps.logger.info({ sid: tunnel.sid, serial: tunnel.serial, reason: text }, 'appliance channel refused');
  rejectWithReason(conn, reject, text);
}
