// A bare HTTP listener serving GET /metrics from a process's registry, for processes that do not
// host the api role (`serve --roles relay`, `--roles workers`) and so have no Fastify to ask.
// It serves nothing else: every other path is 404, every other method 405.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { TetherMetrics } from './metrics.js';

export interface MetricsListenerDeps {
  metrics: Pick<TetherMetrics, 'scrape'>;
  listen: { host: string; port: number };
  logger: Logger;
}

export class MetricsListener {
  private server: Server | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: MetricsListenerDeps) {}

  /** Listens; resolves to the bound port. */
  async start(): Promise<number> {
    if (this.server) throw new AppError('internal', 'metrics listener was already started');
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      this.deps.metrics.scrape().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
        (err: unknown) => {
          this.deps.logger.error({ err: describeError(err) }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        },
      );
    });
    server.on('error', (err) => this.deps.logger.error({ err: describeError(err) }, 'metrics listener error'));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.deps.listen.port, this.deps.listen.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw new AppError('internal', `metrics listener cannot listen on ${this.deps.listen.host}:${this.deps.listen.port}`, { cause: err });
    }
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening and ends idle keep-alive connections. Idempotent. */
  close(): Promise<void> {
    const server = this.server;
    this.closing ??= server
      ? new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        })
      : Promise.resolve();
    return this.closing;
  }
}
