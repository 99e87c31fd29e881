// Fresh key pairs without generateKeyPairSync (shared/key/fresh-keys.ts): the keys work (X25519
// agreement, Ed25519 signatures, the public half derived from the private one), and making and
// exporting many of them in a row never hangs the process, which generateKeyPairSync + a JWK export
// did on Node 20.20 within 5,000–100,000 keys (a GC during the export deadlocks).
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, diffieHellman, sign, verify } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshKeyPair } from '../../shared/key/fresh-keys.js';
import { generateSeedPair, privateKeyObjectFromSeed } from '../../shared/ssh-keys.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

describe('fresh key pairs', () => {
  it('X25519: two parties agree on one secret; the public half is not the placeholder', () => {
    const a = freshKeyPair('x25519');
    const b = freshKeyPair('x25519');
    expect(diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })).toEqual(diffieHellman({ privateKey: b.privateKey, publicKey: a.publicKey }));
    expect(a.publicKey.export({ format: 'jwk' }).x).not.toBe('A'.repeat(43));
  });

  it('Ed25519: the secret is the seed; the public half is the one the seed makes; signatures verify', () => {
    const k = freshKeyPair('ed25519');
    const fromSeed = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, k.secret]), format: 'der', type: 'pkcs8' });
    expect(createPublicKey(fromSeed).export({ format: 'jwk' }).x).toBe(k.publicKey.export({ format: 'jwk' }).x);
    const sig = sign(null, Buffer.from('tether'), k.privateKey);
    expect(verify(null, Buffer.from('tether'), createPublicKey(fromSeed), sig)).toBe(true);
    const pair = generateSeedPair();
    expect(createPublicKey(privateKeyObjectFromSeed(pair.seed)).export({ format: 'jwk' }).x).toBe(pair.raw.toString('base64url'));
  });

  it('makes and exports 100,000 pairs in a row without hanging (a child process, 90 s limit)', async () => {
    // The compiled module (npm run build; scripts/test builds first): Node 20 runs no TypeScript.
    const module = resolve(import.meta.dirname, '..', '..', 'dist', 'shared', 'key', 'fresh-keys.js');
    const script = `
      const { freshKeyPair } = await import(${JSON.stringify(module)});
      for (let i = 0; i < 100000; i++) freshKeyPair(i % 2 ? 'x25519' : 'ed25519').publicKey.export({ format: 'jwk' });
      console.log('done');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.once('exit', (c) => (clearTimeout(timer), done(c)));
    });
    expect(out.trim(), out).toBe('done');
    expect(code).toBe(0);
  }, 100_000);
});
