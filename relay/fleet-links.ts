// This relay's links to its peers: one SSH connection per peer, dialled on first use from the
// peer's registration (address, pinned host-key fingerprint), authenticated with this relay's fleet
// key, and multiplexing every channel that crosses to that peer. A link that drops is forgotten and
// dialled again on the next channel.
import ssh2 from 'ssh2';
import type { Channel, Client } from 'ssh2';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { fingerprintOfBlob } from '../shared/ssh-keys.js';
import type { RelayFleetStore } from '../shared/store/relay-fleet.store.js';
import { peerChannelArgs, type PeerChannelTarget } from './fleet-protocol.js';

export interface PeerLinksDeps {
  store: RelayFleetStore;
  relayId: string;
  /** OpenSSH private key text of this relay's fleet key. */
  fleetPrivateKey: string;
  ciphers: readonly string[];
  keepaliveMs: number;
  readyTimeoutMs?: number;
  logger: Logger;
}

/** A peer's refusal, with the reason text it sent (or why the link failed). */
export class PeerChannelRefused extends AppError {
  constructor(message: string, retryable: boolean) {
    super('relay_refused', message, { retryable });
  }
}

export class PeerLinks {
  private readonly links = new Map<string, Promise<Client>>();
  private closed = false;

  constructor(private readonly deps: PeerLinksDeps) {}

  /** Opens a channel to `target` on the tunnel held by relay `holder`. */
  async open(holder: string, target: PeerChannelTarget): Promise<Channel> {
    const client = await this.link(holder);
    return new Promise((resolve, reject) => {
      client.forwardOut(...peerChannelArgs(target), (err, ch) => {
        if (!err) return resolve(ch);
        // "(SSH) Channel open failure: <the peer's reason>"
        const said = /^\(SSH\) Channel open failure: (.+)$/.exec(err.message)?.[1]?.trim().slice(0, 200);
        reject(new PeerChannelRefused(said ?? `relay ${holder} did not open the channel: ${err.message}`, false));
      });
    });
  }

  /** Number of live links (for tests and the registration's load). */
  get size(): number {
    return this.links.size;
  }

  close(): void {
    this.closed = true;
    for (const p of this.links.values()) void p.then((c) => c.end()).catch(() => undefined);
    this.links.clear();
  }

  private link(holder: string): Promise<Client> {
    if (this.closed) return Promise.reject(new PeerChannelRefused('this relay is shutting down', true));
    let p = this.links.get(holder);
    if (!p) {
      p = this.dial(holder);
      this.links.set(holder, p);
      p.catch(() => {
        if (this.links.get(holder) === p) this.links.delete(holder);
      });
    }
    return p;
  }

  private async dial(holder: string): Promise<Client> {
    const reg = await this.deps.store.get(holder);
    if (!reg) throw new PeerChannelRefused(`relay ${holder} holding the tether is gone; the appliance is reconnecting, try again shortly`, true);
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.on('error', (err: Error) => reject(new PeerChannelRefused(`cannot reach relay ${holder} at ${reg.peer.host}:${reg.peer.port}: ${err.message}`, true)));
      // A peer that ends the link during the login (it could not decide it) sends no error, and ssh2
      // then stops its ready timer: without this the dial, and every crossing behind it, would wait forever.
      client.once('close', () => reject(new PeerChannelRefused(`relay ${holder} closed the link during its login`, true)));
      client.connect({
        host: reg.peer.host,
        port: reg.peer.port,
        username: this.deps.relayId,
        privateKey: this.deps.fleetPrivateKey,
        hostVerifier: (blob: Buffer) => fingerprintOfBlob(blob) === reg.hostKeyFp,
        algorithms: { cipher: [...this.deps.ciphers] as ssh2.CipherAlgorithm[] },
        keepaliveInterval: this.deps.keepaliveMs,
        keepaliveCountMax: 3,
        readyTimeout: this.deps.readyTimeoutMs ?? 5_000,
        tryKeyboard: false,
      });
    });
    const mine = this.links.get(holder);
    client.on('error', (err: Error) => this.deps.logger.debug({ peer: holder, err: err.message }, 'peer link error'));
    client.once('close', () => {
      if (this.links.get(holder) === mine) this.links.delete(holder);
      this.deps.logger.info({ peer: holder }, 'peer link closed');
    });
    if (this.closed) client.end();
    this.deps.logger.info({ peer: holder }, 'peer link dialled');
    return client;
  }
}
