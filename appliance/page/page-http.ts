// HTTP plumbing of the Tether page on Node's own http module: the security headers every response
// carries, bounded form bodies, and small senders. No framework: the page has six routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../shared/errors.js';

/** A form body larger than this is refused (413): a 4,000-character description fits many times. */
export const MAX_FORM_BYTES = 64 * 1024;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'SAMEORIGIN',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Cache-Control': 'no-store',
};

export interface Reply {
  status: number;
  type?: string;
  body?: string;
  headers?: Record<string, string | string[]>;
}

export function send(res: ServerResponse, r: Reply): void {
  const headers: Record<string, string | string[]> = { ...SECURITY_HEADERS, ...(r.headers ?? {}) };
  if (r.body !== undefined) {
    headers['Content-Type'] = r.type ?? 'text/html; charset=utf-8';
    headers['Content-Length'] = String(Buffer.byteLength(r.body));
  }
  res.writeHead(r.status, headers);
  res.end(r.body);
}

export function redirect(location: string, headers: Record<string, string | string[]> = {}): Reply {
  return { status: 303, headers: { Location: location, ...headers } };
}

/** The urlencoded form of a POST; a wrong type is 415, an oversized body 413 (as AppError usage with a status). */
export async function readForm(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormError(415, 'The page only accepts its own forms.');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new FormError(413, `The form is too large (at most ${limit / 1024} KiB).`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new FormError(413, `The form is too large (at most ${limit / 1024} KiB).`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export class FormError extends AppError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('usage', message);
    this.status = status;
  }
}
