// Child process holding simulated appliances: ssh2 Clients dialling the relay as the agent does
// (pinned host key, the agent's cipher order, keepalives, the agent's login steps: a key pair made
// here, then the session credential, whose partial success binds that key), each with one
// `tcpip-forward`. Forwarded channels are piped to a local target port when one is given.
import { connect as tcpConnect } from 'node:net';
import ssh2 from 'ssh2';
import type { ClientErrorExtensions, NegotiatedAlgorithms } from 'ssh2';
import { CIPHERS, loginSteps } from '../../appliance/tunnel/relay-dial.js';
import { fingerprintOfBlob, generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { forEachPooled, type SetupFigures } from './fleet-setup.js';

export interface FleetAppliance {
  serial: string;
  /** OpenSSH private key text of the session's tunnel credential. */
  privateKey: string;
  /** The port forwarded (`tcpip-forward localhost:<port>`). */
  port: number;
  /** Forwarded channels are piped to 127.0.0.1:<target>; refused when absent. */
  target?: number;
}

export type FleetRequest =
  | { type: 'connect'; relay: { host: string; port: number; fp: string }; appliances: FleetAppliance[]; concurrency: number; keepaliveMs: number }
  | { type: 'close' };

/** A child's share set up; setupMs: connect → forward accepted, per appliance. */
export interface FleetConnected extends SetupFigures {
  type: 'connected';
  /** Cipher negotiated by the first appliance (client→server / server→client). */
  cipher?: { cs: string; sc: string };
}

export type FleetMessage = FleetConnected | { type: 'closed' };

const { Client } = ssh2;
const clients: ssh2.Client[] = [];

function dial(a: FleetAppliance, relay: { host: string; port: number; fp: string }, keepaliveMs: number): Promise<NegotiatedAlgorithms | undefined> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let negotiated: NegotiatedAlgorithms | undefined;
    client.on('handshake', (n) => (negotiated = n));
    client.on('error', (err: Error & ClientErrorExtensions) => reject(new Error(`${a.serial}: ${err.level ?? ''} ${err.message}`)));
    client.on('tcp connection', (_info, accept, refuse) => {
      if (!a.target) return refuse();
      const ch = accept();
      const sock = tcpConnect(a.target, '127.0.0.1');
      sock.on('error', () => ch.destroy());
      ch.on('error', () => sock.destroy());
      ch.pipe(sock).pipe(ch);
    });
    client.once('ready', () => {
      client.forwardIn('localhost', a.port, (err) => (err ? reject(new Error(`${a.serial}: forward refused: ${err.message}`)) : resolve(negotiated)));
    });
    clients.push(client);
    // As `ktether enable` does: the appliance's own key, which the first login binds to the session.
    const applianceKey = openSshPrivateKeyFromSeed(generateSeed());
    client.connect({
      host: relay.host,
      port: relay.port,
      username: a.serial,
      authHandler: loginSteps(a.serial, applianceKey, a.privateKey),
      hostVerifier: (blob: Buffer) => fingerprintOfBlob(blob) === relay.fp,
      algorithms: { cipher: CIPHERS },
      keepaliveInterval: keepaliveMs,
      keepaliveCountMax: 3,
      readyTimeout: 120_000,
      tryKeyboard: false,
    });
  });
}

async function connectAll(req: Extract<FleetRequest, { type: 'connect' }>): Promise<FleetConnected> {
  const result: FleetConnected = { type: 'connected', ok: 0, failed: 0, errors: [], startedAt: Date.now(), finishedAt: 0, setupMs: [] };
  await forEachPooled(req.appliances, req.concurrency, async (a) => {
    const t0 = performance.now();
    try {
      const n = await dial(a, req.relay, req.keepaliveMs);
      result.setupMs.push(performance.now() - t0);
      result.ok++;
      if (!result.cipher && n) result.cipher = { cs: n.cs.cipher, sc: n.sc.cipher };
    } catch (err) {
      result.failed++;
      if (result.errors.length < 5) result.errors.push((err as Error).message);
    }
  });
  result.finishedAt = Date.now();
  return result;
}

process.on('message', (msg: FleetRequest) => {
  if (msg.type === 'connect') {
    void connectAll(msg).then((r) => process.send?.(r satisfies FleetMessage));
  } else if (msg.type === 'close') {
    for (const c of clients) c.end();
    process.send?.({ type: 'closed' } satisfies FleetMessage, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
