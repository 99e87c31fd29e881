// A real HTTP server on 127.0.0.1:0 standing in for one vendor's REST API: every request is checked
// against what the vendor documents (method, path, auth header, body shape) by the case's check;
// good requests are answered like the vendor would, unless a scripted answer (429 with
// Retry-After, 503, ...) matches first. Everything is recorded with its arrival time.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: unknown;
  at: number;
}

export interface StubAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ScriptedAnswer extends StubAnswer {
  match: (req: StubRequest) => boolean;
}

export interface VendorApi {
  url: string;
  /** Every request, in arrival order. */
  requests: StubRequest[];
  /** Requests that passed the check and got a 2xx. */
  accepted: StubRequest[];
  /** Why requests were refused for their shape (should stay empty). */
  violations: string[];
  /** The next request matching `match` gets this answer instead of the normal one (once). */
  script(answer: ScriptedAnswer): void;
  close(): Promise<void>;
}

export interface VendorApiBehaviour {
  /** null when the request is exactly what the vendor documents, else what is wrong. */
  check(req: StubRequest): string | null;
  /** The vendor's success answer. */
  answer(req: StubRequest): StubAnswer;
}

export async function startVendorApi(behaviour: VendorApiBehaviour): Promise<VendorApi> {
  const requests: StubRequest[] = [];
  const accepted: StubRequest[] = [];
  const violations: string[] = [];
  const scripted: ScriptedAnswer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = raw ? JSON.parse(raw) : null;
      } catch {
        json = undefined;
      }
      const r: StubRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json, at: Date.now() };
      requests.push(r);
      const send = (a: StubAnswer) => {
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body === undefined ? '' : JSON.stringify(a.body));
      };
      const problem = json === undefined ? 'body is not JSON' : behaviour.check(r);
      if (problem) {
        violations.push(`${r.method} ${r.path}: ${problem}`);
        return send({ status: 400, body: { error: problem } });
      }
      const i = scripted.findIndex((s) => s.match(r));
      if (i >= 0) return send(scripted.splice(i, 1)[0]!);
      const a = behaviour.answer(r);
      if (a.status < 300) accepted.push(r);
      send(a);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    violations,
    script: (a) => void scripted.push(a),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Exact key set of a JSON object, for "the body is this shape and nothing more". */
export function keysOf(v: unknown): string {
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).sort().join(',') : typeof v;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
