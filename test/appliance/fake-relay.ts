// A throw-away ssh2 relay for the agent's tests (the real relay has its own tests): it accepts one
// serial the way the relay does (the key's tunnel credential once, as a partial success, then the
// appliance's own key, which it binds; later logins with the bound key alone), answers
// tcpip-forward / cancel-tcpip-forward, records what happened, and can open forwarded-tcpip
// channels to the appliance as an engineer would.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import type { TestVendor } from './appliance-keys.js';
import { fingerprintOfBlob, generateSeed, openSshPrivateKeyFromSeed, openSshPublicLine, publicKeyBlob, rawPublicFromSeed } from '../../shared/ssh-keys.js';

const { Server, utils } = ssh2;

export interface FakeRelay {
  port: number;
  fingerprint: string;
  /** Every userauth attempt, by user name (also the 'none' probe). */
  auths: string[];
  accepted: number;
  /** The appliance key bound at activation (SSH public-key blob), once the credential was used. */
  bound: Buffer | undefined;
  /** Cipher negotiated client → server, per handshake. */
  ciphers: string[];
  forwards: { bindAddr: string; bindPort: number }[];
  cancels: { bindAddr: string; bindPort: number }[];
  /** Set to refuse the credential, as the relay does for a used, revoked or expired key. */
  rejectAuth: boolean;
  /** Set to end each connection right after it has been granted this many forwards (a flapping relay). */
  endAfterForwards: number | undefined;
  /** Set to record cancels but never answer them (a relay that has stopped responding). */
  ignoreCancels: boolean;
  current(): Connection | undefined;
  openChannel(port: number): Promise<ServerChannel>;
  dropAppliances(): void;
  close(): Promise<void>;
}

export async function startFakeRelay(opts: { serial: string; tunnelSeed: Buffer; hostSeed?: Buffer }): Promise<FakeRelay> {
  const hostSeed = opts.hostSeed ?? generateSeed();
  const allowed = utils.parseKey(openSshPublicLine(rawPublicFromSeed(opts.tunnelSeed)));
  if (allowed instanceof Error) throw allowed;
  const conns = new Set<Connection>();
  let last: Connection | undefined;
  const server = new Server({ hostKeys: [openSshPrivateKeyFromSeed(hostSeed)] }, (conn) => {
    conns.add(conn);
    conn.on('error', () => {});
    conn.on('handshake', (negotiated) => relay.ciphers.push(negotiated.cs.cipher));
    conn.on('close', () => conns.delete(conn));
    let proven = false;
    conn.on('authentication', (ctx) => {
      relay.auths.push(ctx.username);
      if (relay.rejectAuth || ctx.method !== 'publickey' || ctx.username !== opts.serial || ctx.key.algo !== 'ssh-ed25519') return ctx.reject(['publickey']);
      const offered = utils.parseKey(Buffer.concat([Buffer.from('ssh-ed25519 '), Buffer.from(ctx.key.data.toString('base64'))]));
      if (offered instanceof Error || (ctx.signature && offered.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true)) return ctx.reject(['publickey']);
      const isCredential = ctx.key.data.equals(allowed.getPublicSSH());
      if (!proven && isCredential && !relay.bound) {
        if (!ctx.signature) return ctx.accept();
        proven = true;
        return ctx.reject(['publickey'], true);
      }
      const bindsNow = proven && !isCredential && !relay.bound;
      const reconnects = !proven && relay.bound?.equals(ctx.key.data) === true;
      if (!bindsNow && !reconnects) return ctx.reject(['publickey']);
      if (ctx.signature) {
        relay.accepted += 1;
        if (bindsNow) relay.bound = Buffer.from(ctx.key.data);
      }
      ctx.accept();
    });
    conn.on('ready', () => {
      last = conn;
      let granted = 0;
      conn.on('request', (accept, reject, name, info) => {
        const { bindAddr, bindPort } = info as { bindAddr: string; bindPort: number };
        if (name === 'tcpip-forward') {
          relay.forwards.push({ bindAddr, bindPort });
          accept?.();
          if (++granted === relay.endAfterForwards) setImmediate(() => conn.end());
        } else if (name === 'cancel-tcpip-forward') {
          relay.cancels.push({ bindAddr, bindPort });
          if (relay.ignoreCancels) return;
          accept?.();
          setImmediate(() => conn.end()); // like the relay: cancel = customer disabled, session over
        } else reject?.();
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const relay: FakeRelay = {
    port: (server.address() as AddressInfo).port,
    fingerprint: fingerprintOfBlob(publicKeyBlob(rawPublicFromSeed(hostSeed))),
    auths: [],
    accepted: 0,
    bound: undefined,
    ciphers: [],
    forwards: [],
    cancels: [],
    rejectAuth: false,
    endAfterForwards: undefined,
    ignoreCancels: false,
    current: () => (last && conns.has(last) ? last : undefined),
    openChannel(port) {
      const conn = relay.current();
      if (!conn) return Promise.reject(new Error('no appliance connected'));
      return new Promise((resolve, reject) =>
        conn.forwardOut('localhost', port, '127.0.0.1', 40_000, (err, ch) => (err ? reject(err) : resolve(ch))),
      );
    },
    dropAppliances() {
      for (const c of conns) c.end();
    },
    async close() {
      for (const c of conns) c.end();
      await new Promise((r) => server.close(r));
    },
  };
  return relay;
}

/** Polls `check` until it holds; for state observed across processes or sockets. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes through a relay channel to `port` and reads the echo back (a server channel cannot half-close). */
export async function roundTrip(relay: FakeRelay, port: number, text: string): Promise<string> {
  const ch = await relay.openChannel(port);
  let got = '';
  ch.on('data', (d: Buffer) => (got += d.toString()));
  ch.write(text);
  await eventually(() => got.length >= text.length, 5_000, 'echo');
  ch.close();
  return got;
}

/** A key for `serial` whose relay is a fresh fake relay of its own (a fake relay accepts one credential); the caller closes it. */
export async function keyWithFreshRelay(vendor: TestVendor, serial: string, over: Parameters<TestVendor['key']>[0] = {}) {
  const seedKey = vendor.key();
  const relay = await startFakeRelay({ serial, tunnelSeed: seedKey.seed });
  const key = vendor.key({ cred: seedKey.seed.toString('base64url'), ports: [22, 443], relay: { host: '127.0.0.1', port: relay.port, fp: relay.fingerprint }, ...over });
  return { key, relay };
}
