// Configuration, validated once at each entry point from the environment. The only module that
// reads process.env; everything else receives the frozen object it returns.
import { resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';

const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().positive();

const serverEnvSchema = z.object({
  TETHER_HOME: z.string().min(1).default('./.data'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  TETHER_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('tether:'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  TETHER_MAIL_FROM: z.string().min(3).default('Tether <tether@localhost>'),
  TETHER_API_PORT: port.default(8080),
  TETHER_API_HOST: z.string().min(1).default('127.0.0.1'),
  TETHER_RELAY_PORT: port.default(2222),
  TETHER_RELAY_LISTEN: z.string().min(1).default('127.0.0.1'),
  TETHER_RELAY_HOST: z.string().min(1).max(255).default('127.0.0.1'),
  TETHER_RELAY_PUBLIC_PORT: port.optional(),
  TETHER_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TETHER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TETHER_TICKET_COMMENT_URL: z.string().url().optional(),
  TETHER_HEARTBEAT_FLUSH_MS: ms.default(2_000),
  TETHER_KEEPALIVE_MS: ms.default(15_000),
  TETHER_LOST_GRACE_MS: ms.default(45_000),
  TETHER_WARN_OFFSETS: z
    .string()
    .regex(/^\s*\d+[smhdw](\s*,\s*\d+[smhdw])*\s*$/, 'must be a comma-separated list of durations such as 24h,1h')
    .default('24h,1h'),
  TETHER_OPERATOR_EMAIL: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be a mail address').optional(),
  TETHER_TICKET_KEY_TTL: z.string().regex(/^\d+[smhdw]$/, 'must be a duration such as 7d').default('7d'),
  TETHER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

export interface ServerConfig {
  home: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  api: { host: string; port: number; adminToken: string | undefined; webhookSecret: string | undefined };
  relay: { listen: string; port: number; publicHost: string; publicPort: number | undefined; keepaliveMs: number; heartbeatFlushMs: number };
  lostGraceMs: number;
  warnOffsets: string;
  /** Support mailbox for key-sent and failed-job notices (default: the TETHER_MAIL_FROM address). */
  operatorEmail: string | undefined;
  /** Life of keys provisioned for tickets, as a duration (`7d`). */
  ticketKeyTtl: string;
  ticketCommentUrl: string | undefined;
  logLevel: ServerEnv['TETHER_LOG_LEVEL'];
}

/** Lists every problem at once, each naming its variable. */
function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`).join('; ');
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ServerConfig> {
  const parsed = serverEnvSchema.safeParse(env);
  if (!parsed.success) throw new AppError('config_invalid', `invalid configuration: ${formatIssues(parsed.error)}`);
  const e = parsed.data;
  return Object.freeze({
    home: resolve(e.TETHER_HOME),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.TETHER_REDIS_PREFIX,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.TETHER_MAIL_FROM,
    api: { host: e.TETHER_API_HOST, port: e.TETHER_API_PORT, adminToken: e.TETHER_ADMIN_TOKEN, webhookSecret: e.TETHER_WEBHOOK_SECRET },
    relay: {
      listen: e.TETHER_RELAY_LISTEN,
      port: e.TETHER_RELAY_PORT,
      publicHost: e.TETHER_RELAY_HOST,
      publicPort: e.TETHER_RELAY_PUBLIC_PORT,
      keepaliveMs: e.TETHER_KEEPALIVE_MS,
      heartbeatFlushMs: e.TETHER_HEARTBEAT_FLUSH_MS,
    },
    lostGraceMs: e.TETHER_LOST_GRACE_MS,
    warnOffsets: e.TETHER_WARN_OFFSETS,
    operatorEmail: e.TETHER_OPERATOR_EMAIL,
    ticketKeyTtl: e.TETHER_TICKET_KEY_TTL,
    ticketCommentUrl: e.TETHER_TICKET_COMMENT_URL,
    logLevel: e.TETHER_LOG_LEVEL,
  });
}

/** Entry points that need Redis call this; the message names the variable. */
export function requireRedisUrl(config: Readonly<ServerConfig>): string {
  if (!config.redisUrl) throw new AppError('config_invalid', 'invalid configuration: REDIS_URL: required (e.g. redis://127.0.0.1:6379)');
  return config.redisUrl;
}

const agentEnvSchema = z.object({
  KTETHER_HOME: z.string().min(1).default('./.ktether'),
});

export function loadAgentHome(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = agentEnvSchema.safeParse(env);
  if (!parsed.success) throw new AppError('config_invalid', `invalid configuration: ${formatIssues(parsed.error)}`);
  return resolve(parsed.data.KTETHER_HOME);
}
