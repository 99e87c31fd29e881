// Test stand-in for the generic help desk's comment endpoint (TETHER_TICKET_COMMENT_URL): a real
// HTTP server on 127.0.0.1:0 that checks the exact headers, signature and body shape, records
// good comments, and can be told to fail the next requests (help desk down).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyGeneric } from '../../../ticketing/generic-signature.js';

export interface ReceivedComment {
  ticket: { system: string; id: string };
  body: string;
  internal: boolean;
  at: number;
}

export interface CommentServer {
  url: string;
  comments: ReceivedComment[];
  /** Requests refused for a bad method, header, signature or shape (should stay empty). */
  violations: string[];
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function shapeProblem(json: unknown): string | null {
  const j = json as { ticket?: Record<string, unknown>; comment?: Record<string, unknown> };
  if (!j || typeof j !== 'object') return 'body is not an object';
  const keys = Object.keys(j).sort().join(',');
  if (keys !== 'comment,ticket') return `unexpected top-level keys ${keys}`;
  if (Object.keys(j.ticket ?? {}).sort().join(',') !== 'id,system') return 'ticket must be {system,id}';
  if (j.ticket?.system !== 'generic' || typeof j.ticket?.id !== 'string') return 'ticket.system must be "generic" and id a string';
  if (Object.keys(j.comment ?? {}).sort().join(',') !== 'body,internal') return 'comment must be {body,internal}';
  if (typeof j.comment?.body !== 'string' || typeof j.comment?.internal !== 'boolean') return 'comment.body string, comment.internal boolean';
  return null;
}

export async function startCommentServer(secret: string): Promise<CommentServer> {
  const comments: ReceivedComment[] = [];
  const violations: string[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const refuse = (status: number, why: string) => {
      violations.push(why);
      res.writeHead(status).end(why);
    };
    if (req.method !== 'POST' || req.url !== '/comments') return refuse(404, `unexpected ${req.method} ${req.url}`);
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return refuse(415, 'content-type must be application/json');
    if (!/^\d+$/.test(String(req.headers['x-tether-timestamp'] ?? ''))) return refuse(401, 'X-Tether-Timestamp missing or not unix seconds');
    const verdict = verifyGeneric(secret, req.headers, raw, Date.now());
    if (!verdict.ok) return refuse(401, verdict.reason);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(400, 'body is not JSON');
    }
    const problem = shapeProblem(json);
    if (problem) return refuse(400, problem);
    if (failures.left > 0) {
      failures.left--;
      res.writeHead(failures.status).end('help desk unavailable');
      return;
    }
    const j = json as { ticket: { system: string; id: string }; comment: { body: string; internal: boolean } };
    comments.push({ ticket: j.ticket, body: j.comment.body, internal: j.comment.internal, at: Date.now() });
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/comments`,
    comments,
    violations,
    failNext(count, status = 503) {
      failures = { left: count, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
