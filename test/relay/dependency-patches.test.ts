// Every patch under patches/ is in place in node_modules (ensure_npm_deps applies them after an
// install), the ssh2 padding patch reaches every cipher's packet allocation, and a curve25519 key
// exchange with the JWK patch agrees with OpenSSL's own.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSeed, openSshPrivateKeyFromSeed } from '../../shared/ssh-keys.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PATCHES = join(ROOT, 'patches');
const patches = readdirSync(PATCHES).filter((f) => f.endsWith('.patch'));

describe('dependency patches', () => {
  it('holds the ssh2 patches the relay figures were measured with', () => {
    expect(patches).toEqual(expect.arrayContaining(['ssh2-padding-pool.patch', 'ssh2-send-buffer-reuse.patch', 'ssh2-x25519-jwk.patch']));
  });

  for (const name of patches) {
    it(`${name} is applied (it reverses cleanly)`, () => {
      // Throws (non-zero exit) when the patch is not in place.
      execFileSync('patch', ['-p1', '-R', '--dry-run', '-s', '-f', '-i', join(PATCHES, name)], { cwd: ROOT, stdio: 'pipe' });
    });
  }

  it('ssh2 takes the padding of every outgoing packet from the pool', () => {
    const source = readFileSync(createRequire(join(ROOT, 'package.json')).resolve('ssh2/lib/protocol/crypto.js'), 'utf8');
    expect(source.match(/fillPadding\(packet, 5 \+ payloadLen, padLen\)/g)).toHaveLength(7);
    expect(source).not.toMatch(/randomFillSync\(packet, 5 \+ payloadLen, padLen\)/);
  });

  it('an ssh2 client and server still agree on keys over curve25519 (the JWK patch)', async () => {
    const require = createRequire(join(ROOT, 'package.json'));
    const ssh2 = require('ssh2') as typeof import('ssh2');
    const hostKey = openSshPrivateKeyFromSeed(generateSeed());
    const server = new ssh2.Server({ hostKeys: [hostKey], algorithms: { kex: ['curve25519-sha256'] } }, (conn) => {
      conn.on('authentication', (ctx) => ctx.accept());
      conn.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const kex = await new Promise<string>((resolve, reject) => {
        const client = new ssh2.Client();
        client.on('handshake', (n) => {
          resolve(n.kex);
          client.end();
        });
        client.on('error', reject);
        client.connect({ host: '127.0.0.1', port, username: 'x', password: 'y', algorithms: { kex: ['curve25519-sha256'] } });
      });
      expect(kex).toBe('curve25519-sha256');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
