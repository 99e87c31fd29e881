// The appliance's Tether page (GET/POST under /support/tether on KTETHER_UI_LISTEN, loopback by
// default): sign-in with the local password (scrypt, failed attempts rate-limited), then status,
// Enable (description or key, generated or own support password) and Disable Tether, each POST with
// the session's CSRF token. It is a thin client of the service, like the CLI; refusals come back
// as one line on the page and change nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, isAppError } from '../../shared/errors.js';
import type { AgentPaths } from '../agent-home.js';
import type { AgentLog } from '../agent-log.js';
import type { StatusOptions } from '../status-report.js';
import type { Clock } from '../clock.js';
import { formatLogTime } from '../log-line.js';
import type { ListenAddress } from '../service/service-settings.js';
import type { TetherService } from '../service/tether-service.js';
import type { EnableSource } from '../service/control-protocol.js';
import { MAX_DESCRIPTION } from '../service/enable-wording.js';
import { PAGE_CSS, PAGE_JS } from './page-assets.js';
import { FormError, readForm, redirect, send, type Reply } from './page-http.js';
import { describePorts, pageModel } from './page-model.js';
import { PAGE_PATH, PageSessions, type PageSession } from './page-sessions.js';
import { messageView, signInView, tetherView } from './page-view.js';
import { SignInLimiter } from './sign-in-limiter.js';
import { checkUiPassword, uiPasswordIsSet } from './ui-password.js';

export const LOG_LINES = 50;
/** A full view waits at most this long for the API's answer about keys waiting (then a one-line note). */
export const PAGE_INBOX_TIMEOUT_MS = 1_500;
/** Retry-After (s) when no more signed-out sessions are handed out. */
const BUSY_RETRY_S = 60;

export interface PageServerOptions {
  listen: ListenAddress;
  service: TetherService;
  paths: AgentPaths;
  clock: Clock;
  log: AgentLog;
}

type Route = (req: IncomingMessage, session: PageSession | undefined) => Promise<Reply>;

export class PageServer {
  readonly #opts: PageServerOptions;
  readonly #sessions: PageSessions;
  readonly #limiter: SignInLimiter;
  readonly #routes: Record<string, Route>;
  #server: Server | undefined;
  #url: string | null = null;

  constructor(opts: PageServerOptions) {
    this.#opts = opts;
    this.#sessions = new PageSessions({ clock: opts.clock });
    this.#limiter = new SignInLimiter({ clock: opts.clock });
    this.#routes = {
      [`GET ${PAGE_PATH}`]: (_req, s) => this.#page(s),
      [`GET ${PAGE_PATH}/status.json`]: (_req, s) => this.#statusJson(s),
      [`GET ${PAGE_PATH}/page.css`]: async () => ({ status: 200, type: 'text/css; charset=utf-8', body: PAGE_CSS }),
      [`GET ${PAGE_PATH}/page.js`]: async () => ({ status: 200, type: 'text/javascript; charset=utf-8', body: PAGE_JS }),
      [`POST ${PAGE_PATH}/sign-in`]: (req, s) => this.#signIn(req, s),
      [`POST ${PAGE_PATH}/sign-out`]: (req, s) => this.#signedInPost(req, s, async (session) => {
        this.#sessions.end(session);
        return redirect(PAGE_PATH, { 'Set-Cookie': this.#sessions.clearCookie() });
      }),
      [`POST ${PAGE_PATH}/enable`]: (req, s) => this.#signedInPost(req, s, (session, form) => this.#enable(session, form)),
      [`POST ${PAGE_PATH}/disable`]: (req, s) => this.#signedInPost(req, s, (session) => this.#disable(session)),
    };
  }

  get url(): string | null {
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    // An enable may wait for the tunnel for its whole timeout; nothing else takes long.
    server.requestTimeout = 120_000;
    server.headersTimeout = 10_000;
    server.on('clientError', (_err, socket) => socket.destroy());
    const { host, port } = this.#opts.listen;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#opts.log(`Tether page: ${err.message}`));
    this.#server = server;
    const a = server.address() as AddressInfo;
    this.#url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${PAGE_PATH}`;
    return this.#url;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The one place where outcomes become HTTP answers. */
  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = this.#routes[`${method} ${path}`];
    let reply: Reply;
    try {
      if (!route) {
        const known = Object.keys(this.#routes).some((k) => k.endsWith(` ${path}`));
        reply = known ? { status: 405, body: messageView('Not allowed', 'This address does not take that method.'), headers: { Allow: 'GET, HEAD, POST' } } : { status: 404, body: messageView('Not found', 'There is nothing here.') };
      } else {
        reply = await route(req, this.#sessions.fromCookie(req.headers.cookie));
      }
    } catch (err) {
      if (err instanceof FormError) reply = { status: err.status, body: messageView('Refused', err.message), headers: { Connection: 'close' } };
      else if (isAppError(err, 'agent_not_initialised')) reply = { status: 503, body: messageView('Not set up', err.message) };
      else {
        this.#opts.log(`Tether page: ${req.method} ${path} failed: ${describeError(err)}`);
        reply = { status: 500, body: messageView('Something went wrong', 'The page could not do that; see the log (ktether.log).') };
      }
    }
    send(res, reply);
  }

  async #page(session: PageSession | undefined): Promise<Reply> {
    if (!uiPasswordIsSet(this.#opts.paths)) {
      return { status: 503, body: messageView('Tether page not set up', 'Set the page password on the appliance first: ktether init --ui-password-file FILE') };
    }
    const s = session ?? this.#sessions.create();
    if (!s) {
      this.#opts.log('Tether page: refused a new sign-in page: too many signed-out sessions open');
      return { status: 503, body: messageView('Busy', 'Too many sign-in pages are open at once: try again in a few minutes.'), headers: { 'Retry-After': String(BUSY_RETRY_S) } };
    }
    const cookie: Record<string, string> = session ? {} : { 'Set-Cookie': this.#sessions.cookie(s) };
    if (!s.signedIn) return { status: 200, body: signInView(s.csrf, this.#sessions.takeFlash(s)), headers: cookie };
    // A full view asks the API for keys waiting in the inbox (enrolled appliances), briefly; the polling does not.
    return { status: 200, body: tetherView(await this.#model({ inbox: true, inboxTimeoutMs: PAGE_INBOX_TIMEOUT_MS }), s.csrf, this.#sessions.takeFlash(s)), headers: cookie };
  }

  async #model(opts: StatusOptions = { inbox: false }) {
    const { service, clock } = this.#opts;
    const status = await service.status(opts);
    return pageModel(service.deps.warm.config(), status, service.logTail(LOG_LINES), clock.now());
  }

  async #statusJson(session: PageSession | undefined): Promise<Reply> {
    if (!session?.signedIn) return { status: 401, type: 'application/json', body: '{"error":"sign in first"}' };
    return { status: 200, type: 'application/json', body: JSON.stringify(await this.#model()) };
  }

  async #signIn(req: IncomingMessage, session: PageSession | undefined): Promise<Reply> {
    const form = await readForm(req);
    if (!session || !this.#sessions.csrfMatches(session, form.get('csrf') ?? undefined)) return this.#staleForm();
    const address = req.socket.remoteAddress ?? 'unknown';
    // Counted before the (slow, off-thread) password check: parallel attempts cannot all pass.
    const wait = this.#limiter.begin(address);
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      this.#opts.log(`Tether page: sign-in from ${address} refused: too many failed sign-ins`);
      return { status: 429, body: signInView(session.csrf, { kind: 'error', text: `Too many failed sign-ins: try again in ${minutes} min.` }), headers: { 'Retry-After': String(Math.ceil(wait / 1000)) } };
    }
    if (!(await checkUiPassword(this.#opts.paths, form.get('password') ?? ''))) {
      this.#opts.log(`Tether page: failed sign-in from ${address}`);
      return { status: 401, body: signInView(session.csrf, { kind: 'error', text: 'Wrong password.' }) };
    }
    this.#limiter.succeeded(address);
    const signedIn = this.#sessions.signIn(session);
    this.#opts.log(`Tether page: signed in from ${address}`);
    return redirect(PAGE_PATH, { 'Set-Cookie': this.#sessions.cookie(signedIn) });
  }

  #staleForm(): Reply {
    return { status: 403, body: messageView('Refused', 'The form was stale or not from this page (CSRF check failed): reload the page and try again.') };
  }

  async #signedInPost(req: IncomingMessage, session: PageSession | undefined, then: (s: PageSession, form: URLSearchParams) => Promise<Reply>): Promise<Reply> {
    const form = await readForm(req);
    if (!session?.signedIn) return { status: 401, body: messageView('Sign in first', 'Your sign-in has expired: sign in again, then repeat what you did.') };
    if (!this.#sessions.csrfMatches(session, form.get('csrf') ?? undefined)) return this.#staleForm();
    return then(session, form);
  }

  async #enable(session: PageSession, form: URLSearchParams): Promise<Reply> {
    const mode = form.get('mode');
    const source: EnableSource | undefined =
      mode === 'description'
        ? { kind: 'description', description: form.get('description') ?? '' }
        : mode === 'key'
          ? { kind: 'key', key: form.get('key') ?? '' }
          : mode === 'pending'
            ? { kind: 'pending' }
            : undefined;
    if (!source) throw new FormError(400, 'The form was not understood: reload the page and try again.');
    const own = form.get('password_choice') === 'own';
    this.#opts.log(`Tether page: enable requested (${mode === 'key' ? 'pasted key' : mode === 'pending' ? 'key from the inbox' : 'description'}, ${own ? 'own' : 'generated'} support password)`);
    try {
      const r = await this.#opts.service.enable({ source, password: own ? (form.get('password') ?? '') : undefined, wording: 'page' }, { say: () => {}, raw: () => {} });
      const ticket = r.ticket ? ` Ticket ${r.ticket}.` : '';
      session.flash = { kind: 'ok', text: `Tether enabled: support can reach ports ${describePorts(r.ports)} until ${formatLogTime(new Date(r.expiresAt))}.${ticket}` };
    } catch (err) {
      session.flash = {
        kind: 'error',
        text: oneLine(err),
        ...(source.kind === 'key' ? { form: 'key' as const } : {}),
        ...(source.kind === 'description' ? { description: source.description.slice(0, MAX_DESCRIPTION) } : {}),
      };
    }
    return redirect(PAGE_PATH);
  }

  async #disable(session: PageSession): Promise<Reply> {
    this.#opts.log('Tether page: disable requested');
    try {
      const disabled = await this.#opts.service.disable({ say: () => {}, raw: () => {} });
      session.flash = disabled
        ? { kind: 'ok', text: 'Tether disabled: the vendor can no longer reach this appliance, and kace_support is removed.' }
        : { kind: 'ok', text: 'No tether is enabled: nothing to disable.' };
    } catch (err) {
      session.flash = { kind: 'error', text: oneLine(err) };
    }
    return redirect(PAGE_PATH);
  }
}

/** The refusal's one line, as a sentence on the page (the CLI prints the same words after `ktether: `). */
function oneLine(err: unknown): string {
  const text = (isAppError(err) ? err.message : `internal error: ${describeError(err)}`).split('\n')[0] ?? '';
  return `${text.charAt(0).toUpperCase()}${text.slice(1, 500)}`;
}
