// An authenticated engineer connection: only `direct-tcpip` to `<serial>:<port>` of a CONNECTED
// tether, on a port the session allows and the appliance forwarded. A tether held by this relay is
// reached directly; one held by another relay of the fleet crosses to it over the peer link, after
// the very same checks here. Every refusal carries a reason text and lands in the audit stream.
import type { Connection, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { AccessStore, EngineerPolicy } from '../shared/store/access.store.js';
import { keyIsCurrent, type EngineerDirectory } from '../shared/store/engineer.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { ApplianceRegistry } from './appliance-registry.js';
import type { EngineerIdentity } from './engineer-auth.js';
import { openEngineerChannel, type EngineerChannelDeps } from './engineer-channel.js';
import type { FleetCrossings } from './fleet-crossings.js';
import { OPEN_FAILURE, rejectWithReason, type OpenFailureCode } from './ssh2-internals.js';

export interface EngineerConnectionDeps extends EngineerChannelDeps {
  sessions: SessionStore;
  engineers: EngineerDirectory;
  access: AccessStore;
  engineerPolicy: EngineerPolicy;
  registry: ApplianceRegistry;
  relayId: string;
  /** The fleet: channels to tethers other relays hold cross there. Without it they are refused. */
  crossings?: FleetCrossings | undefined;
}

const NO_SESSION_CHANNELS = 'the relay offers no shell; reach an appliance with ssh -W SERIAL:PORT, -J or -L';

export function serveEngineer(conn: Connection, id: EngineerIdentity, deps: EngineerConnectionDeps): void {
  const engineer = id.name;
  let gone = false;
  conn.once('close', () => {
    gone = true;
  });
  const refuseOther = (reject: () => void) => {
    deps.logger.info({ engineer }, 'engineer channel refused: not direct-tcpip');
    rejectWithReason(conn, reject, NO_SESSION_CHANNELS);
  };
  conn.on('session', (_accept: unknown, reject: () => void) => refuseOther(reject));
  conn.on('openssh.streamlocal', (_accept: unknown, reject: () => void) => refuseOther(reject));
  conn.on('tcpip', (accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo) => {
    void onDirectTcpip(conn, id, accept, reject, info, () => gone, deps);
  });
}

async function onDirectTcpip(
  conn: Connection,
  id: EngineerIdentity,
  accept: () => ServerChannel,
  reject: () => void,
  info: TcpipRequestInfo,
  engineerGone: () => boolean,
  deps: EngineerConnectionDeps,
): Promise<void> {
  const engineer = id.name;
  const host = String(info.destIP);
  const port = Number(info.destPort);
  const refuse = (reason: string, code: OpenFailureCode = OPEN_FAILURE.administrativelyProhibited) => {
    deps.logger.info({ engineer, host, port, reason }, 'engineer channel refused');
    rejectWithReason(conn, reject, reason, code);
    void deps.audit
      .append('engineer.channel.refused', { engineer, host, port, reason }, deps.now())
      .catch((err: unknown) => deps.logger.error({ err }, 'audit append failed'));
  };

  const tunnel = deps.registry.get(host);
  if (!tunnel && !deps.crossings) return refuse(`${host} is not an appliance with a live tether on this relay`);
  if (tunnel && !tunnel.ports.includes(port)) return refuse(`port ${port} is not open for ${tunnel.serial} (allowed: ${tunnel.ports.join(', ')})`);

  let session;
  let registered;
  try {
    // The key must still be registered: a removal whose announcement this relay missed still holds.
    [session, registered] = await Promise.all([tunnel ? deps.sessions.get(tunnel.sid) : deps.sessions.findLiveBySerial(host), deps.engineers.get(engineer)]);
  } catch (err) {
    deps.logger.error({ err, sid: tunnel?.sid, host }, 'session look-up failed');
    return refuse('session store unavailable, try again', OPEN_FAILURE.connectFailed);
  }
  if (engineerGone()) return;
  if (!registered?.keys.some((k) => k.fingerprint === id.fingerprint && keyIsCurrent(k, deps.now()))) {
    conn.end();
    return refuse(`engineer ${engineer} (key ${id.fingerprint}) is no longer registered or has expired`);
  }
  if (!session) return refuse(`${host} is not an appliance with a live tether`);
  if (session.state !== 'CONNECTED') return refuse(`tether of ${session.serial} is not connected (${session.state})`);
  let allowed;
  try {
    allowed = await deps.access.allowed(session, engineer, deps.engineerPolicy);
  } catch (err) {
    deps.logger.error({ err, sid: session.id }, 'access look-up failed');
    return refuse('session store unavailable, try again', OPEN_FAILURE.connectFailed);
  }
  if (engineerGone()) return;
  if (!allowed) return refuse(`engineer ${engineer} is not authorised for the tether of ${session.serial}: ask for a grant (tether session grant ${session.id} --engineer ${engineer}) or the ticket's assignment`);
  if (!session.ports.includes(port)) return refuse(`port ${port} is not open for ${session.serial}`);
  if (session.expiresAt <= deps.now()) return refuse(`tether of ${session.serial} has expired`);
  const holder = session.relayId;
  if (!tunnel || (holder && holder !== deps.relayId)) {
    // Held elsewhere (a tunnel here is a stale one that has moved): cross to the holder.
    if (!deps.crossings) return refuse(`tether of ${session.serial} is held by another relay`);
    if (!holder || holder === deps.relayId) return refuse(`tether of ${session.serial} is reconnecting, try again`, OPEN_FAILURE.connectFailed);
    const crossing = { holder, sid: session.id, serial: session.serial, port, engineer, accept, refuse, engineerGone };
    return void deps.crossings.cross(crossing);
  }
  const binding = tunnel.bindings?.get(port);
  if (!binding) return refuse(`appliance ${tunnel.serial} has not forwarded port ${port}`);
  // The tunnel may have been replaced or torn down while Redis answered.
  if (tunnel.ended || deps.registry.get(host) !== tunnel) return refuse(`tether of ${tunnel.serial} closed`, OPEN_FAILURE.connectFailed);

  openEngineerChannel(
    {
      tunnel,
      engineer,
      port,
      binding,
      originIP: String(info.srcIP ?? '127.0.0.1'),
      originPort: Number(info.srcPort ?? 0),
      accept,
      refuse,
      engineerGone,
    },
    deps,
  );
}
