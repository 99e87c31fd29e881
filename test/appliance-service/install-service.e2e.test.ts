// `ktether install-service --dest DIR` (compiled CLI): writes the systemd unit for this appliance
// (this node, this build, its KTETHER_HOME, the page's address, the hardening the issue asks for),
// which systemd-analyze accepts; the packaged unit is the same template with an image's defaults.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderUnit, UNIT_DEFAULTS } from '../../appliance/packaging/systemd-unit.js';
import { testVendor } from '../appliance/appliance-keys.js';
import { buildKtether } from '../appliance/ktether-build.js';
import { ROOT } from '../helpers/processes.js';

let dir: string;
let home: string;
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => (await buildKtether()).run(args, { KTETHER_HOME: home, ...env });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ktether-unit-'));
  home = join(dir, 'home');
  mkdirSync(join(dir, 'units'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function init(accounts: 'file' | 'linux'): Promise<void> {
  const vendor = testVendor({ serial: 'K1000-UNIT01', relay: { host: '127.0.0.1', port: 1, fp: 'SHA256:x' } });
  const r = await run(['init', '--serial', 'K1000-UNIT01', '--product', 'sma', '--version', '10.2', '--vendor-key', vendor.writePublic(dir), '--accounts', accounts]);
  expect(r.code, r.stderr).toBe(0);
}

describe('ktether install-service', () => {
  it('writes a hardened unit for this appliance that systemd-analyze accepts', async () => {
    await init('file');
    const r = await run(['install-service', '--dest', join(dir, 'units')], { KTETHER_UI_LISTEN: '127.0.0.1:9442' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(dir, 'units', 'ktether.service');
    expect(r.stdout).toBe(
      `wrote ${file} (KTETHER_HOME=${home}, Tether page on 127.0.0.1:9442, accounts: file)\n` +
        `install it with: cp ${file} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now ktether\n`,
    );
    const unit = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    for (const line of [
      'Type=simple',
      `ExecStart=${process.execPath} ${resolve(ROOT, 'dist', 'scripts', 'ktether.js')} service`,
      `Environment=KTETHER_HOME=${home}`,
      'Environment=KTETHER_UI_LISTEN=127.0.0.1:9442',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      `ReadWritePaths=${home}`,
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n'), line).toContain(line);
    }
    const analyze = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    if (analyze.error === undefined) expect(analyze.status, analyze.stderr).toBe(0);
  });

  it('lets the linux account provider write what useradd needs, and nothing is written for bad input', async () => {
    await init('linux');
    const r = await run(['install-service', '--dest', join(dir, 'units')]);
    expect(r.code, r.stderr).toBe(0);
    const unit = readFileSync(join(dir, 'units', 'ktether.service'), 'utf8');
    expect(unit).toContain(`ReadWritePaths=${home} /etc /home -/var/mail -/var/spool/mail\n`);
    expect(unit).not.toContain('ProtectHome=yes');
    expect(unit).toContain('Environment=KTETHER_UI_LISTEN=127.0.0.1:8442\n');

    rmSync(join(dir, 'units', 'ktether.service'));
    const bad: [string[], string][] = [
      [['--dest', join(dir, 'missing')], `ktether: --dest ${join(dir, 'missing')} is not a directory\n`],
      [['--dest', join(dir, 'units'), '--ui-listen', 'everywhere'], 'ktether: invalid configuration: KTETHER_UI_LISTEN: expected HOST:PORT (e.g. 127.0.0.1:8442; port 0 = any free port) or off, got "everywhere"\n'],
      [['--dest', join(dir, 'units'), '--bogus'], expect.stringMatching(/^ktether: Unknown option '--bogus'/) as unknown as string],
    ];
    for (const [args, stderr] of bad) {
      const refused = await run(['install-service', ...args]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toEqual(stderr);
    }
    expect(existsSync(join(dir, 'units', 'ktether.service'))).toBe(false);
  });

  it('the packaged unit is the template with an appliance image\'s defaults', () => {
    expect(readFileSync(join(ROOT, 'appliance', 'packaging', 'ktether.service'), 'utf8')).toBe(renderUnit(UNIT_DEFAULTS));
  });
});
