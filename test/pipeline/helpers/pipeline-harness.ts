// Test harness for the pipeline: a random Redis prefix (BullMQ's too), a temp TETHER_HOME, the
// real SMTP capture on 127.0.0.1:0, the comment server, the API listening on 127.0.0.1:0 and the
// workers in-process (optional). Everything is real; close() removes every key it created.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApiServer } from '../../../api/api-server.js';
import { Producers } from '../../../queues/producers.js';
import { loadServerConfig, type ServerConfig } from '../../../shared/config.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../../shared/key/key-files.js';
import { createLogger } from '../../../shared/logger.js';
import { createMailer, type Mailer } from '../../../shared/mail/mailer.js';
import { parseMail, type ParsedMail } from '../../../shared/mail/mail-parse.js';
import { createSmtpCapture, outboxDir, type CapturedMail, type SmtpCapture } from '../../../shared/mail/smtp-capture.js';
import type { TetherMetrics } from '../../../shared/metrics.js';
import { RedisAuditLog } from '../../../shared/store/redis-audit.store.js';
import { RedisSessionStore } from '../../../shared/store/redis-session.store.js';
import { signGeneric } from '../../../ticketing/generic-signature.js';
import type { PipelineTuning, RunningWorkers } from '../../../workers/start-workers.js';
import { deletePrefix, randomPrefix } from '../../helpers/redis-prefix.js';
import { startCommentServer, type CommentServer } from './comment-server.js';
import { listenApi, startTestWorkers, testServerEnv } from './pipeline-parts.js';

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface HarnessOptions {
  redisUrl: string;
  workers?: boolean;
  tuning?: PipelineTuning;
  env?: Record<string, string>;
  /** Handed to the API and the workers, as serve does. */
  metrics?: TetherMetrics;
}

export interface Mail extends ParsedMail {
  envelopeTo: string[];
  file: string;
}

export interface Harness {
  prefix: string;
  home: string;
  config: Readonly<ServerConfig>;
  redis: Redis;
  sessions: RedisSessionStore;
  audit: RedisAuditLog;
  producers: Producers;
  signingKey: SigningKey;
  smtp: SmtpCapture;
  mails: Mail[];
  mailer: Mailer;
  comments: CommentServer;
  api: FastifyInstance;
  apiUrl: string;
  workers: RunningWorkers | undefined;
  startWorkers(tuning?: PipelineTuning): Promise<RunningWorkers>;
  close(): Promise<void>;
}

export interface WebhookFields {
  id: string;
  type?: 'ticket.created' | 'ticket.updated' | 'ticket.closed';
  ticketId?: string;
  serial?: string;
  product?: string;
  version?: string;
  tags?: string[];
  email?: string;
}

export function webhookBody(f: WebhookFields): Record<string, unknown> {
  return {
    id: f.id,
    type: f.type ?? 'ticket.created',
    ticket: {
      id: f.ticketId ?? '4711',
      subject: 'Inventory page is blank',
      description: 'Since the upgrade the inventory page shows nothing.',
      status: f.type === 'ticket.closed' ? 'closed' : 'open',
      requester: { email: f.email ?? 'it-ops@customer.example', name: 'IT Ops' },
      tags: f.tags ?? ['tether'],
      appliance: { serial: f.serial ?? 'K1000-5F3A9C', product: f.product ?? 'sma', version: f.version ?? '10.1' },
    },
  };
}

/** Sends a body signed like the generic help desk does (override headers to break it). */
export async function postWebhook(apiUrl: string, body: string | Buffer | Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; json: { status?: string; error?: { code: string; message: string } } }> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(`${apiUrl}/v1/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers ?? signGeneric(WEBHOOK_SECRET, raw, Date.now())) },
    body: typeof raw === 'string' ? raw : new Uint8Array(raw),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const prefix = randomPrefix();
  const home = mkdtempSync(join(tmpdir(), 'tether-pipeline-'));
  const comments = await startCommentServer(WEBHOOK_SECRET);
  const smtp = createSmtpCapture({ outboxDir: outboxDir(home) });
  await smtp.start();
  const mails: Mail[] = [];
  smtp.onMail((m: CapturedMail) => mails.push({ ...parseMail(m.raw), envelopeTo: m.to, file: m.file }));
  const config = loadServerConfig({
    ...testServerEnv({ home, redisUrl: opts.redisUrl, prefix, smtpUrl: smtp.url }),
    TETHER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TETHER_ADMIN_TOKEN: ADMIN_TOKEN,
    TETHER_TICKET_COMMENT_URL: comments.url,
    TETHER_LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const logger = createLogger('pipeline-test', config.logLevel);
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  const signingKey = loadOrCreateSigningKey(home);
  const mailer = createMailer({ smtpUrl: smtp.url, from: config.mailFrom, timeoutMs: 2_000 });
  const api = await buildApiServer({ config, redis, prefix, logger, metrics: opts.metrics });
  const apiUrl = await listenApi(api);
  const running: RunningWorkers[] = [];
  const h: Harness = {
    prefix,
    home,
    config,
    redis,
    sessions: new RedisSessionStore(redis, prefix),
    audit: new RedisAuditLog(redis, prefix),
    producers: new Producers({ connection: redis, prefix }),
    signingKey,
    smtp,
    mails,
    mailer,
    comments,
    api,
    apiUrl,
    workers: undefined,
    async startWorkers(tuning?: PipelineTuning) {
      const w = await startTestWorkers({ config, redisUrl: opts.redisUrl, prefix, signingKey, mailer, logger, metrics: opts.metrics }, tuning);
      running.push(w);
      h.workers = w;
      return w;
    },
    async close() {
      for (const w of running) await w.close();
      await api.close();
      await h.producers.close();
      mailer.close();
      await smtp.close();
      await comments.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(home, { recursive: true, force: true });
    },
  };
  if (opts.workers !== false) await h.startWorkers(opts.tuning);
  return h;
}

/** The mails to one recipient whose subject matches. */
export function mailsTo(h: Harness, to: string, subject: RegExp): Mail[] {
  return h.mails.filter((m) => m.envelopeTo.includes(to) && subject.test(m.subject));
}
