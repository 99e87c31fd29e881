// One HTTP request of the help-desk clients (a JSON body or none): node:http(s) on a keep-alive
// agent per process, a timeout for the whole exchange (redirects included), the answer's body read
// as text, redirects followed as fetch follows them. It stands in for fetch on this path: in the
// flood benchmark's profile, fetch's web streams, abort signals and the DOMException every finished
// timeout signal makes cost more of the server's main thread than the request itself, once per
// ticket comment.
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpCall {
  method: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  body?: string | undefined;
  timeoutMs: number;
}

/** Sent when the caller names none (fetch sent `node`; some gateways refuse requests without one). */
export const USER_AGENT = 'tether-orchestrator';
/** Redirects followed before the answer is taken as it is (fetch follows 20; help desks need one or two). */
export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that do not follow a redirect to another origin (as fetch does). */
const ORIGIN_BOUND = ['authorization', 'cookie', 'proxy-authorization'];

// Idle connections close after 4 s, before the usual 5 s of servers' keep-alive, so a request is not
// sent on a connection the server is closing at that moment.
const KEEP_ALIVE = { keepAlive: true, timeout: 4_000 } as const;
const AGENTS = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) } as const;

function headersOf(raw: http.IncomingHttpHeaders): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) h.append(name, v);
  }
  return h;
}

function parseUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new Error('invalid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${url.protocol}`);
  return url;
}

function once(url: URL, method: string, headers: Record<string, string>, body: string | undefined, deadline: { at: number; total: number }): Promise<HttpAnswer> {
  const transport = url.protocol === 'https:' ? https : http;
  const sent: Record<string, string> = { ...headers };
  if (body !== undefined) sent['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = transport.request(url, { method, headers: sent, agent: AGENTS[url.protocol as keyof typeof AGENTS] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish(err));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: headersOf(res.headers), text: Buffer.concat(chunks).toString('utf8') }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${deadline.total} ms`)), Math.max(0, deadline.at - Date.now()));
    req.on('error', (err) => finish(err));
    req.end(body);
  });
}

/** Resolves with any status (the caller decides what it means); rejects when there is no answer in time. */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  let url = parseUrl(call.url);
  let { method, body } = call;
  let headers: Record<string, string> = { ...call.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'user-agent')) headers['User-Agent'] = USER_AGENT;
  const deadline = { at: Date.now() + call.timeoutMs, total: call.timeoutMs };
  for (let hop = 0; ; hop++) {
    const answer = await once(url, method, headers, body, deadline);
    const location = answer.headers.get('location');
    if (!REDIRECTS.has(answer.status) || !location || hop >= MAX_REDIRECTS) return answer;
    const next = parseUrl(location, url);
    // As fetch: 303, and 301/302 after a POST, continue as a GET without a body; 307/308 repeat the request.
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([h]) => h.toLowerCase() !== 'content-type'));
    }
    if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([h]) => !ORIGIN_BOUND.includes(h.toLowerCase())));
    url = next;
  }
}
