// File modes under TETHER_HOME: the embedded pieces (SMTP capture receiving a mail, key files,
// the private redis-server with AOF and RDB) started against a temp TETHER_HOME that an older
// version left world-readable end with 0700 folders and 0600 files, every one of them.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../../shared/key/key-files.js';
import { createSmtpCapture, outboxDir } from '../../shared/mail/smtp-capture.js';
import { makeOwnerOnly } from '../../shared/private-files.js';
import { startRedisServer } from '../helpers/redis-server.js';

const home = mkdtempSync(join(tmpdir(), 'tether-modes-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Every folder and file below `root` (root included), relative path → octal mode. */
function modesUnder(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    out[relative(root, dir) || '.'] = modeOf(dir).toString(8);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else out[relative(root, path)] = modeOf(path).toString(8);
    }
  };
  walk(root);
  return out;
}

/** What an older version left behind: 0755 folders and 0644 files, a key mail among them. */
function olderInstall(): void {
  chmodSync(home, 0o755);
  for (const dir of ['outbox', 'keys', 'run', 'redis']) mkdirSync(join(home, dir), { mode: 0o755 });
  for (const dir of ['outbox', 'keys', 'run', 'redis']) chmodSync(join(home, dir), 0o755);
  for (const file of ['outbox/20240101T000000000Z-0123456789ab.eml', 'run/redis.url', 'redis/redis.log']) {
    writeFileSync(join(home, file), 'older\n');
    chmodSync(join(home, file), 0o644);
  }
}

describe('TETHER_HOME is owner-only', () => {
  it('narrows an older install and writes mails, keys and the Redis AOF/RDB as 0600 in 0700 folders', async () => {
    olderInstall();
    expect(modeOf(join(home, 'outbox'))).toBe(0o755);

    // What serve does at start, then each embedded piece the way the entry points start it.
    expect(makeOwnerOnly(home)).toEqual([]);
    loadOrCreateSigningKey(home);
    loadOrCreateRelayHostKey(home);

    const capture = createSmtpCapture({ outboxDir: outboxDir(home) });
    const { host, port } = await capture.start();
    const stored: string[] = [];
    capture.onMail((m) => stored.push(m.file));
    const transport = createTransport({ host, port, secure: false, ignoreTLS: true });
    try {
      await transport.sendMail({ from: 'tether@vendor.example', to: 'it-ops@customer.example', subject: 'your tether key', text: 'KT1.secret\n' });
    } finally {
      transport.close();
      await capture.close();
    }
    expect(stored).toHaveLength(1);

    const redisServer = await startRedisServer({ dir: join(home, 'redis') });
    try {
      const c = new Redis(redisServer.url);
      await c.set('tether:probe', 'x');
      c.disconnect();
      await redisServer.shutdown(); // SHUTDOWN SAVE: writes dump.rdb as an operator restart does
      await redisServer.restart(); // same dir, same umask: the data came back from it
      const again = new Redis(redisServer.url);
      expect(await again.get('tether:probe')).toBe('x');
      again.disconnect();
    } finally {
      await redisServer.stop();
    }

    const modes = modesUnder(home);
    const wider = Object.entries(modes).filter(([p, m]) => m !== (statSync(join(home, p)).isDirectory() ? '700' : '600'));
    expect(wider).toEqual([]);
    // ...and the pieces under test did write what was checked.
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        relative(home, stored[0]!),
        'keys/signing.key',
        'keys/signing.pub',
        'keys/relay_host_key',
        'keys/relay_host_key.pub',
        'redis/appendonlydir',
        'redis/dump.rdb',
      ]),
    );
    expect(Object.keys(modes).some((p) => p.startsWith('redis/appendonlydir/') && p.endsWith('.aof'))).toBe(true);
  });
});
