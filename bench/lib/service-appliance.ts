// A simulated appliance for the service benchmark: its KTETHER_HOME initialised (and enrolled, for
// one-click) with the compiled `ktether`, the Tether page's password set, `ktether service`
// running on it with the page on a free loopback port, and the page's form usable over plain HTTP
// (cookie and CSRF token, exactly what Chromium sends) for many appliances clicked at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectService, type ServiceConnection } from '../../appliance/service/control-client.js';
import { killOnExit } from './kill-on-exit.js';
import { runKtether } from './ktether-cli.js';

export const PAGE_PASSWORD = 'bench-page-password-2026';

export interface ServiceAppliance {
  serial: string;
  home: string;
  pageUrl: string;
  child: ChildProcess;
  /** A control-socket request (status, disable, …) as the CLI sends it. */
  request(body: Parameters<ServiceConnection['request']>[0]): Promise<unknown>;
  stop(): Promise<void>;
}

export interface ApplianceSpec {
  ktether: string;
  serial: string;
  version: string;
  vendorKey: string;
  forward: string;
  /** Enrol with this API and a token from `token()` (one-click appliances). */
  enrol?: { api: string; token: () => Promise<string> };
}

export async function initAppliance(spec: ApplianceSpec): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'ktether-svc-bench-'));
  const init = await runKtether(spec.ktether, home, ['init', '--serial', spec.serial, '--product', 'sma', '--version', spec.version, '--vendor-key', spec.vendorKey, '--forward', spec.forward]);
  if (init.code !== 0) throw new Error(`ktether init failed (${init.code}): ${init.out}`);
  if (spec.enrol) {
    const enrolled = await runKtether(spec.ktether, home, ['enroll', '--api', spec.enrol.api, '--token', await spec.enrol.token()]);
    if (enrolled.code !== 0) throw new Error(`ktether enroll failed (${enrolled.code}): ${enrolled.out}`);
  }
  writeFileSync(join(home, 'page-password'), `${PAGE_PASSWORD}\n`, { mode: 0o600 });
  const pw = await runKtether(spec.ktether, home, ['init', '--ui-password-file', join(home, 'page-password')]);
  if (pw.code !== 0) throw new Error(`ktether init --ui-password-file failed (${pw.code}): ${pw.out}`);
  return home;
}

export async function startApplianceService(ktether: string, serial: string, home: string): Promise<ServiceAppliance> {
  const child = spawn(process.execPath, [ktether, 'service'], { env: { ...process.env, KTETHER_HOME: home, KTETHER_UI_LISTEN: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /Service ready \(pid \d+\): control socket (\S+), Tether page (\S+)/.exec(out);
      if (m) resolve(m);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`ktether service exited (${code}) before it was ready:\n${out}`)));
  });
  const socket = ready[1]!.replace(/,$/, '');
  return {
    serial,
    home,
    pageUrl: ready[2]!,
    child,
    async request(body) {
      const conn = await connectService(socket);
      if (!conn) throw new Error(`the service of ${serial} does not answer on ${socket}`);
      try {
        return await conn.request(body);
      } finally {
        conn.close();
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(late);
    },
  };
}

export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
}

/** The page's forms over HTTP: sign in once, then POST the enable form as the browser would. */
export class PageForm {
  #cookie = '';
  #csrf = '';
  constructor(readonly pageUrl: string) {}

  async signIn(): Promise<void> {
    await this.#get();
    const r = await this.#post('/sign-in', { password: PAGE_PASSWORD });
    if (r.status !== 303) throw new Error(`sign-in to ${this.pageUrl} answered ${r.status}`);
    await this.#get();
  }

  /** The Enable Tether form with a description; resolves when the page answered (after connecting). */
  async enableWithDescription(description: string): Promise<number> {
    return (await this.#post('/enable', { mode: 'description', description, password_choice: 'generated' })).status;
  }

  async #get(): Promise<void> {
    const res = await fetch(this.pageUrl, { headers: this.#cookie ? { cookie: this.#cookie } : {}, redirect: 'manual' });
    this.#keep(res);
    const m = /name="csrf" value="([^"]+)"/.exec(await res.text());
    if (m) this.#csrf = m[1]!;
  }

  async #post(path: string, fields: Record<string, string>): Promise<Response> {
    const res = await fetch(`${this.pageUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.#cookie },
      body: new URLSearchParams({ ...fields, csrf: this.#csrf }).toString(),
      redirect: 'manual',
    });
    this.#keep(res);
    await res.arrayBuffer();
    return res;
  }

  #keep(res: Response): void {
    const set = res.headers.get('set-cookie');
    if (set) this.#cookie = set.split(';')[0]!;
  }
}
