// A resident `ktether service` for tests: the compiled entry as a child process on a simulated
// appliance's KTETHER_HOME, its page on a free loopback port (KTETHER_UI_LISTEN=127.0.0.1:0, the
// address read from its ready line), a raw socket client for protocol tests, and the Tether page's
// password set the customer's way (`ktether init --ui-password-file`).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runNode, startNode, type LongRunning, type RunResult } from '../helpers/processes.js';

export const UI_PASSWORD = 'appliance-admin-2026';
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'appliance-page');

export interface RunningService {
  proc: LongRunning;
  /** `http://127.0.0.1:PORT/support/tether` */
  pageUrl: string;
  origin: string;
  socket: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `ktether service` for `home` and waits for its ready line. */
export async function startService(home: string, env: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  const proc = startNode('ktether', ['service'], { KTETHER_HOME: home, KTETHER_UI_LISTEN: '127.0.0.1:0', ...env });
  const m = await proc.waitFor(/Service ready \(pid \d+\): control socket (\S+), Tether page (\S+)/, 20_000).catch((err: Error) => {
    proc.child.kill('SIGKILL');
    throw err;
  });
  const pageUrl = m[2]!;
  return {
    proc,
    pageUrl,
    origin: pageUrl === 'off' ? '' : new URL(pageUrl).origin,
    socket: m[1]!.replace(/,$/, ''),
    stop: (signal = 'SIGTERM') => proc.stop(signal),
  };
}

/** Mode and content of every file under KTETHER_HOME but the log (the service logs each request) and its socket. */
export function homeSnapshot(home: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(home).sort()) {
    if (name === 'ktether.log' || name === 'ktether.sock') continue;
    files[name] = `${statSync(join(home, name)).mode.toString(8)} ${readFileSync(join(home, name), 'utf8')}`;
  }
  return files;
}

/** `ktether init --ui-password-file` with the test password. */
export async function setPagePassword(home: string, password = UI_PASSWORD): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ktether-pw-'));
  try {
    writeFileSync(join(dir, 'pw'), `${password}\n`, { mode: 0o600 });
    return await runNode('ktether', ['init', '--ui-password-file', join(dir, 'pw')], { KTETHER_HOME: home });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends raw bytes on the control socket and collects what comes back until it closes or `waitMs` passes. */
export function rawExchange(socket: string, data: string | Buffer, waitMs = 1_500): Promise<{ lines: unknown[]; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = createConnection(socket);
    let text = '';
    let closed = false;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
    const timer = setTimeout(finish, waitMs);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), closed });
    }
    sock.once('connect', () => sock.write(data));
  });
}

/** Saves a screenshot of the whole page under test-artifacts/appliance-page/. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

/** Signs in on the page's form (the page must show it). */
export async function signIn(page: Page, password = UI_PASSWORD): Promise<void> {
  await page.locator('#password').fill(password);
  await page.locator('button[type=submit]', { hasText: 'Sign in' }).click();
}

/** The page over plain HTTP, as a browser would use it (cookie, CSRF token from the form), for refusal tests. */
export class PageClient {
  cookie = '';
  csrf = '';
  constructor(readonly pageUrl: string) {}

  async get(path = ''): Promise<{ status: number; html: string; headers: Headers }> {
    const res = await fetch(`${this.pageUrl}${path}`, { headers: this.cookie ? { cookie: this.cookie } : {}, redirect: 'manual' });
    this.#keep(res);
    const html = await res.text();
    const m = /name="csrf" value="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1]!;
    return { status: res.status, html, headers: res.headers };
  }

  async post(path: string, fields: Record<string, string>, opts: { csrf?: string | null; type?: string } = {}): Promise<{ status: number; html: string; headers: Headers }> {
    const form = new URLSearchParams(fields);
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (csrf !== null) form.set('csrf', csrf);
    const res = await fetch(`${this.pageUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': opts.type ?? 'application/x-www-form-urlencoded', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: form.toString(),
      redirect: 'manual',
    });
    this.#keep(res);
    return { status: res.status, html: await res.text(), headers: res.headers };
  }

  /** GET, then sign in; resolves when signed in (the page then carries a new CSRF token). */
  async signIn(password = UI_PASSWORD): Promise<number> {
    await this.get();
    const r = await this.post('/sign-in', { password });
    if (r.status === 303) await this.get();
    return r.status;
  }

  /** The one-line flash message of the page now (after a POST's redirect). */
  async flash(): Promise<string | undefined> {
    const { html } = await this.get();
    const m = /<p class="flash flash-(?:ok|error)" id="flash"[^>]*>([^<]*)<\/p>/.exec(html);
    return m?.[1]?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  }

  #keep(res: Response): void {
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
  }
}
