// One HTTP request of the help-desk clients (a JSON body or none): node:http(s) on a keep-alive
// agent per process, a timeout for the whole exchange, the answer's body read as text. It stands in
// for fetch on this path: in the flood benchmark's profile, fetch's web streams, abort signals and
// the DOMException every finished timeout signal makes cost more of the server's main thread than
// the request itself, once per ticket comment.
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

/** Resolves with any status (the caller decides what it means); rejects when there is no answer in time. */
export function httpCall(call: HttpCall): Promise<HttpAnswer> {
  let url: URL;
  try {
    url = new URL(call.url);
  } catch {
    return Promise.reject(new Error('invalid URL'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  const transport = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...call.headers };
  if (call.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(call.body));
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = transport.request(url, { method: call.method, headers, agent: AGENTS[url.protocol as keyof typeof AGENTS] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish(err));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: headersOf(res.headers), text: Buffer.concat(chunks).toString('utf8') }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${call.timeoutMs} ms`)), call.timeoutMs);
    req.on('error', (err) => finish(err));
    req.end(call.body);
  });
}
