// What the API's request log may say about a URL: the path only. Query strings are dropped whole
// (names too: `?<token>` has no `=`, so a name can be the secret); a `query: "[redacted]"` marker
// says one was sent. Tokens in URLs stay refused by the routes; this keeps them out of the log.
import { LogController, type FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

/** `/v1/sessions?token=…` → `/v1/sessions`. */
export function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remotePort?: number } | null;
}

/** Fastify's `req` serializer with the query string removed (replaces its `url: req.url`). */
export function serializeRequest(req: RequestLike): Record<string, unknown> {
  const url = req.url ?? '';
  return {
    method: req.method,
    url: pathOnly(url),
    ...(url.includes('?') ? { query: REDACTED } : {}),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Fastify's own "Route GET:<url> not found" line puts the raw URL in the message text. */
export class RedactingLogController extends LogController {
  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(`Route ${request.raw.method}:${pathOnly(request.raw.url ?? '')} not found`);
  }
}
