// `ktether enable` refuses a key that is not for this appliance, or not valid now, with one line on
// stderr, exit 1 (2 for usage), and no file under KTETHER_HOME created, changed or removed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeKey, keyIdOf } from '../../shared/key/key-codec.js';
import { agentPaths } from '../../appliance/agent-home.js';
import { runKtether } from '../../appliance/cli/ktether.js';
import { markKeyUsed } from '../../appliance/used-keys.js';
import { testVendor } from './appliance-keys.js';

const SERIAL = 'K1000-REFUSE';
const vendor = testVendor({ serial: SERIAL, relay: { host: '127.0.0.1', port: 2222, fp: 'SHA256:relay' } });
let dir: string;
let home: string;

async function ktether(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKtether(args, { env: { KTETHER_HOME: home }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** Every file under KTETHER_HOME with its content and mode. */
function snapshot(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(home).sort()) {
    const path = join(home, name);
    files[name] = `${statSync(path).mode.toString(8)} ${readFileSync(path, 'utf8')}`;
  }
  return files;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ktether-refuse-'));
  home = join(dir, 'home');
  const init = await ktether(['init', '--serial', SERIAL, '--product', 'sma', '--version', '10.1', '--vendor-key', vendor.writePublic(dir)]);
  expect(init.code).toBe(0);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function expectRefused(key: string, reason: string | RegExp, extra: string[] = [], exitCode = 1): Promise<void> {
  const before = snapshot();
  const r = await ktether(['enable', '--key', key, ...extra]);
  expect(r.code).toBe(exitCode);
  expect(r.err).toHaveLength(1);
  // One prefix on every error line, then the reason.
  expect(r.err[0]).toMatch(/^ktether: /);
  if (typeof reason === 'string') expect(r.err[0]).toBe(`ktether: ${reason}`);
  else expect(r.err[0]!.slice('ktether: '.length)).toMatch(reason);
  expect(r.out).toEqual([]);
  expect(snapshot()).toEqual(before);
}

describe('ktether enable refusals', () => {
  it('init wrote only config.json and the vendor key', () => {
    expect(Object.keys(snapshot())).toEqual(['config.json', 'vendor.pub']);
    const config = JSON.parse(readFileSync(agentPaths(home).config, 'utf8'));
    expect(config).toMatchObject({ serial: SERIAL, product: 'sma', version: '10.1', accounts: 'file' });
    expect(config.forwards).toEqual({
      '22': { host: '127.0.0.1', port: 22 },
      '80': { host: '127.0.0.1', port: 80 },
      '443': { host: '127.0.0.1', port: 443 },
      '3306': { host: '127.0.0.1', port: 3306 },
    });
  });

  it('refuses a key for another serial', async () => {
    await expectRefused(vendor.key({ serial: 'K1000-OTHER1' }).text, `key is for serial K1000-OTHER1, not this appliance (${SERIAL})`);
  });

  it('refuses an expired key', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(vendor.key({ iat: now - 7200, exp: now - 60 }).text, /^key expired at \d{4}-/);
  });

  it('refuses a key with one character changed', async () => {
    const { text } = vendor.key();
    const i = Math.floor(text.length / 2);
    const tampered = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    await expectRefused(tampered, /^key (signature is invalid|is malformed)/);
  });

  it('refuses a key signed by an unknown signer', async () => {
    const other = generateKeyPairSync('ed25519');
    const { payload } = vendor.key();
    const foreign = encodeKey({ ...payload, kid: keyIdOf(other.publicKey) }, other.privateKey);
    await expectRefused(foreign, `key is signed by an unknown signer (kid ${keyIdOf(other.publicKey)})`);
  });

  it('refuses a key whose jti this appliance has already used', async () => {
    const { text, payload } = vendor.key();
    markKeyUsed(agentPaths(home), payload.jti);
    await expectRefused(text, 'key already used');
  });

  it('refuses text that is not a key', async () => {
    await expectRefused('hello', 'key is malformed: expected KT1.<payload>.<signature>');
  });

  it('wants --password when the key lets the customer choose it (usage error, exit 2)', async () => {
    await expectRefused(vendor.key({ pw: { mode: 'customer' } }).text, 'this key lets the customer choose the support password: give --password PW', [], 2);
  });

  it('rejects bad invocations as usage errors', async () => {
    for (const args of [['enable'], ['enable', '--key', 'a', '--key-file', 'b'], ['enable', '--bogus'], ['frobnicate'], []]) {
      const r = await ktether(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^ktether: /);
    }
  });

  it('prints its version, and says so when disable finds nothing enabled', async () => {
    const v = await ktether(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toEqual([expect.stringMatching(/^ktether \d+\.\d+\.\d+$/)]);
    const d = await ktether(['disable']);
    expect(d.code).toBe(0);
    expect(d.out.at(-1)).toMatch(/\[ktether\] No tether is enabled: nothing to disable\.$/);
    expect(d.out.join('\n')).not.toMatch(/Tether disabled/);
  });

  it('an SDA does not forward the database port by default: a key listing only 3306 is refused, nothing changes', async () => {
    const init = await ktether(['init', '--serial', SERIAL, '--product', 'sda', '--version', '6.1', '--vendor-key', vendor.writePublic(dir)]);
    expect(init.code, init.err.join('\n')).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')).forwards)).toEqual(['22', '80', '443']);
    await expectRefused(vendor.key({ product: 'sda', ports: [3306] }).text, "none of the key's ports (3306) has a forward target: run ktether init with --forward", ['--timeout', '1s']);
  });

  it('refuses everything but init before init', async () => {
    rmSync(home, { recursive: true, force: true });
    for (const cmd of ['enable', 'status', 'reset', 'disable']) {
      const r = await ktether(cmd === 'enable' ? [cmd, '--key', vendor.key().text] : [cmd]);
      expect(r.code, cmd).toBe(1);
      expect(r.err).toEqual([`ktether: not initialised in ${home}: run ktether init first`]);
    }
  });
});
