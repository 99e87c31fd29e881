// One dry run, at service start, of everything a click runs for the first time in a process: an HTTP
// request through fetch (one-click's API call) answered by the page itself (its form handling),
// key verification and schema checks, sealed secrets opened with an identity, OpenSSH key encoding,
// the scrypt of the support account. Nothing is written and nothing leaves the machine; it moves
// ~80 ms of first-use CPU out of the first click (measured: 135 → 58 ms for one-click).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import { freshKeyPair } from '../../shared/key/fresh-keys.js';
import { generateIdentityKeys, rawPublicKey, sealContext, sealSecrets } from '../../shared/key/sealing.js';
import type { TetherKeyPayload } from '../../shared/key/tether-key.schema.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';
import { acceptKey } from '../key-acceptance.js';
import { hashPasswordAsync } from '../password-hash.js';
import { tetherStateSchema } from '../tether-state.js';

const SERIAL = 'WARM-UP';

/** `pageUrl`: the service's own page (loopback), or null when it has none: a throw-away listener answers instead. */
export async function warmUpClickPath(pageUrl: string | null): Promise<void> {
  await warmHttp(pageUrl);
  const signer = freshKeyPair('ed25519');
  const identity = generateIdentityKeys();
  const seed = generateSeed();
  const now = Math.floor(Date.now() / 1000);
  const payload: TetherKeyPayload = {
    v: 1,
    kid: keyIdOf(signer.publicKey),
    jti: randomBytes(12).toString('base64url'),
    sid: randomBytes(12).toString('base64url'),
    serial: SERIAL,
    product: 'sma',
    iat: now,
    exp: now + 60,
    relay: { host: '127.0.0.1', port: 22, fp: 'SHA256:warm-up' },
    ports: [22],
  };
  payload.sealed = sealSecrets(rawPublicKey(identity.sealKey), { cred: seed.toString('base64url'), pw: { mode: 'escrow' } }, sealContext(SERIAL, payload.jti));
  const text = encodeKey(payload, signer.privateKey);
  const signers = trustedSignersFromPem(signer.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  acceptKey(text, { signers, serial: SERIAL, isUsed: () => false, sealKey: identity.sealKey });
  openSshPrivateKeyFromSeed(seed, 'warm-up');
  tetherStateSchema.safeParse({});
  await hashPasswordAsync('warm-up');
}

/** A GET and a refused form POST through fetch: the client and (with a page) the page's handlers warm. */
async function warmHttp(pageUrl: string | null): Promise<void> {
  const local = pageUrl === null ? createServer((req, res) => req.resume().on('end', () => res.end('{}'))) : undefined;
  try {
    let base = pageUrl;
    if (local) {
      await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
      base = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
    }
    await (await fetch(`${base}/page.css`, { signal: AbortSignal.timeout(5_000) })).text();
    const body = new URLSearchParams({ csrf: 'warm-up', password: '' }).toString();
    const post = await fetch(`${base}/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(5_000) });
    await post.text();
  } finally {
    local?.close();
  }
}

