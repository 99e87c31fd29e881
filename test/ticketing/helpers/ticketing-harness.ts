// Test harness for the vendor help desks: a random Redis prefix, a temp TETHER_HOME, the SMTP
// capture, one stand-in REST API per vendor on 127.0.0.1:0, the API (buildApiServer) listening on
// 127.0.0.1:0 and the workers in-process, all configured from the environment the way serve is,
// with every vendor active at once. Logs are kept in memory so tests can read the reasons.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApiServer } from '../../../api/api-server.js';
import { Producers } from '../../../queues/producers.js';
import { QUEUE } from '../../../queues/queue-names.js';
import { loadServerConfig, type ServerConfig } from '../../../shared/config.js';
import { HELP_DESKS } from '../../../ticketing/help-desks.js';
import { loadOrCreateSigningKey } from '../../../shared/key/key-files.js';
import { createMailer, type Mailer } from '../../../shared/mail/mailer.js';
import { parseMail, type ParsedMail } from '../../../shared/mail/mail-parse.js';
import { createSmtpCapture, outboxDir, type SmtpCapture } from '../../../shared/mail/smtp-capture.js';
import { RedisSessionStore } from '../../../shared/store/redis-session.store.js';
import type { RunningWorkers } from '../../../workers/start-workers.js';
import { deletePrefix, randomPrefix } from '../../helpers/redis-prefix.js';
import { listenApi, startTestWorkers, testServerEnv } from '../../pipeline/helpers/pipeline-parts.js';
import { startVendorApi, type VendorApi } from './vendor-api.js';
import { VENDOR_CASES, type Delivery, type VendorCase } from './vendor-cases.js';

export interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  system?: string;
  [k: string]: unknown;
}

export interface Mail extends ParsedMail {
  envelopeTo: string[];
}

export interface TicketingHarness {
  prefix: string;
  config: Readonly<ServerConfig>;
  redis: Redis;
  sessions: RedisSessionStore;
  producers: Producers;
  apis: Record<VendorCase['system'], VendorApi>;
  mails: Mail[];
  logs: LogLine[];
  apiUrl: string;
  post(system: string, d: Delivery): Promise<{ status: number; json: any }>;
  /** Jobs of the ticket-events queue in any state. */
  ticketEventJobs(): Promise<number>;
  close(): Promise<void>;
}

export async function startTicketingHarness(opts: { redisUrl: string; env?: Record<string, string> }): Promise<TicketingHarness> {
  const prefix = randomPrefix();
  const home = mkdtempSync(join(tmpdir(), 'tether-ticketing-'));
  const smtp: SmtpCapture = createSmtpCapture({ outboxDir: outboxDir(home) });
  await smtp.start();
  const mails: Mail[] = [];
  smtp.onMail((m) => mails.push({ ...parseMail(m.raw), envelopeTo: m.to }));
  const apis = {} as Record<VendorCase['system'], VendorApi>;
  for (const c of VENDOR_CASES) apis[c.system] = await startVendorApi(c.api);
  const config = loadServerConfig({
    ...testServerEnv({ home, redisUrl: opts.redisUrl, prefix, smtpUrl: smtp.url }),
    TETHER_COMMENT_BURST: '1s',
    TETHER_LOG_LEVEL: 'info',
    ...Object.assign({}, ...VENDOR_CASES.map((c) => c.env(apis[c.system].url))),
    ...opts.env,
  }, HELP_DESKS);
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  const signingKey = loadOrCreateSigningKey(home);
  const mailer: Mailer = createMailer({ smtpUrl: smtp.url, from: config.mailFrom, timeoutMs: 2_000 });
  const api: FastifyInstance = await buildApiServer({ config, redis, prefix, logger });
  const apiUrl = await listenApi(api);
  const workers: RunningWorkers = await startTestWorkers({ config, redisUrl: opts.redisUrl, prefix, signingKey, mailer, logger }, { operatorEmail: null });
  const producers = new Producers({ connection: redis, prefix });
  return {
    prefix,
    config,
    redis,
    sessions: new RedisSessionStore(redis, prefix),
    producers,
    apis,
    mails,
    logs,
    apiUrl,
    async post(system, d) {
      const res = await fetch(`${apiUrl}/v1/webhooks/${system}`, { method: 'POST', headers: d.headers, body: new Uint8Array(d.body) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : {} };
    },
    async ticketEventJobs() {
      const counts = await producers.queue(QUEUE.ticketEvents).getJobCounts();
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close() {
      await workers.close();
      await api.close();
      await producers.close();
      mailer.close();
      await smtp.close();
      for (const a of Object.values(apis)) await a.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
