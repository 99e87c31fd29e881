// Configuration, validated once at each entry point from the environment. The only module that
// reads process.env; everything else receives the frozen object it returns.
import { resolve } from 'node:path';
import { z } from 'zod';
import { MAX_TTL_MS, parseDuration } from './duration.js';
import { AppError } from './errors.js';
import { ssoSettings, type SsoConfig } from './sso-config.js';

/** `Name <addr@host>` or a bare address → the address. */
export function mailAddressOf(from: string): string {
  const m = /<([^>]+)>/.exec(from);
  return (m ? m[1]! : from).trim();
}

const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().positive();

/** `host:port` (`[v6]:port` for IPv6 literals). */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
/** A comma-separated list of `host:port`, in order, at least one. */
const hostPortList = (example: string) =>
  z
    .string()
    .transform((text, ctx) => {
      const out: HostPort[] = [];
      for (const item of text.split(',').map((t) => t.trim()).filter(Boolean)) {
        const m = HOST_PORT.exec(item);
        const p = m ? Number(m[2]) : 0;
        if (!m || p < 1 || p > 65535) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port (e.g. ${example})` });
          return z.NEVER;
        }
        out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port: p });
      }
      if (out.length === 0) {
        ctx.addIssue({ code: 'custom', message: `must list at least one host:port (e.g. ${example})` });
        return z.NEVER;
      }
      return out;
    });

const serverEnvSchema = z.object({
  TETHER_HOME: z.string().min(1).default('./.data'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  /** Redis Sentinel: the sentinels to ask for the current primary (REDIS_URL then only gives password, db, TLS). */
  REDIS_SENTINELS: hostPortList('10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379').optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be the master name the sentinels monitor (e.g. mymaster)').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Replicas a write must reach before an outside effect depends on it (default: 1 with Sentinel, else 0). */
  TETHER_REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  TETHER_REDIS_WAIT_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  TETHER_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('tether:'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  TETHER_MAIL_FROM: z
    .string()
    .refine((v) => z.email().safeParse(mailAddressOf(v)).success, 'must be a mail address, optionally with a name: Tether <tether@vendor.example>')
    .default('Tether <tether@tether.local>'),
  TETHER_API_PORT: port.default(8080),
  TETHER_API_HOST: z.string().min(1).default('127.0.0.1'),
  TETHER_RELAY_PORT: port.default(2222),
  TETHER_RELAY_LISTEN: z.string().min(1).default('127.0.0.1'),
  TETHER_RELAY_HOST: z.string().min(1).max(255).default('127.0.0.1'),
  TETHER_RELAY_PUBLIC_PORT: port.optional(),
  /** The fleet's relays as keys name them, in order; the agent tries them in turn. Overrides TETHER_RELAY_HOST/_PUBLIC_PORT. */
  TETHER_RELAY_ENDPOINTS: hostPortList('relay1.example:22,relay2.example:22').optional(),
  /** `serial`: each key lists the fleet starting at a relay picked by the appliance's serial (no load balancer in front); `ordered`: as configured. */
  TETHER_RELAY_ORDER: z.enum(['ordered', 'serial'], { error: 'must be ordered or serial' }).default('ordered'),
  /** Where the relay listens for its peers' links (keep it on the relays' private network); 0: any free port. */
  TETHER_RELAY_PEER_PORT: port.default(0),
  TETHER_RELAY_PEER_LISTEN: z.string().min(1).optional(),
  /** The address other relays dial to reach this one's peer listener. */
  TETHER_RELAY_PEER_HOST: z.string().min(1).max(255).optional(),
  /** Relay processes sharing the relay port (a relay per core, Node's cluster module); 1: the relay runs in the serve process. */
  TETHER_RELAY_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  /** How long a draining relay (SIGTERM) waits for open engineer channels before it cuts them. */
  TETHER_RELAY_DRAIN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  TETHER_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TETHER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TETHER_TICKET_COMMENT_URL: z.string().url().optional(),
  TETHER_HEARTBEAT_FLUSH_MS: ms.default(2_000),
  TETHER_KEEPALIVE_MS: ms.default(15_000),
  TETHER_LOST_GRACE_MS: ms.default(45_000),
  TETHER_WARN_OFFSETS: z
    .string()
    .regex(/^\s*\d+[smhdw](\s*,\s*\d+[smhdw])*\s*$/, 'must be a comma-separated list of durations such as 24h,1h')
    .default('24h,1h')
    // Compiled once here: everything downstream gets milliseconds.
    .transform((text) => text.split(',').map((t) => parseDuration(t.trim()))),
  TETHER_OPERATOR_EMAIL: z.email('must be a mail address').optional(),
  /** `on`: the support mailbox gets a notice for every key mailed (one mail and one job per ticket). */
  TETHER_KEY_SENT_NOTICE: z.enum(['off', 'on']).default('off'),
  /** Pooled SMTP connections the workers keep open (0: a connection per mail). */
  TETHER_SMTP_POOL: z.coerce.number().int().min(0).max(100).default(10),
  TETHER_TICKET_KEY_TTL: z
    .string()
    .regex(/^\d+[smhdw]$/, 'must be a duration such as 7d')
    .default('7d')
    .transform((t) => parseDuration(t))
    .refine((ms) => ms > 0 && ms <= MAX_TTL_MS, 'must be more than 0 and at most 12w'),
  TETHER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where a process without the api role serves GET /metrics (docs/metrics.md); unset: no listener. */
  TETHER_METRICS_PORT: port.optional(),
  TETHER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TETHER_LOG_FORMAT: z.enum(['json', 'human']).default('json'),
  /** Who reaches a session: `assigned` (granted or the ticket's assignee) or `all` registered engineers. */
  TETHER_ENGINEER_POLICY: z.enum(['assigned', 'all']).default('assigned'),
  /** When set, the server writes its JSON log to <dir>/tether.log and the console shows warnings only. */
  TETHER_LOG_DIR: z.string().min(1).optional(),
  /** How long a shutdown may take (jobs finishing, connections closing) before the process exits anyway. */
  TETHER_SHUTDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

// Help desks (docs/help-desks.md). The generic one is configured by TETHER_WEBHOOK_SECRET and
// TETHER_TICKET_COMMENT_URL above. Each vendor declares its own variables in
// ticketing/<vendor>/<vendor>.config.ts; their registry (ticketing/help-desks.ts) reaches
// loadServerConfig from the entry point, since shared/ imports no other folder.

/** The help desk one-click opens tickets in unless TETHER_ONE_CLICK_HELP_DESK names another. */
const DEFAULT_HELP_DESK = 'generic';

/** What the variables of one vendor help desk mean for its presence checks and its start-up status. */
export interface HelpDeskVariables {
  /** The variable that switches it on: its webhook secret (or token). */
  readonly secret: string;
  /** Set together, they open its REST API: comments, tickets it opens, status lookups. */
  readonly api: readonly string[];
  /** Required once it is switched on. */
  readonly needs: readonly string[];
}

/** One vendor help desk as config loading reads it. */
export interface HelpDeskSettings<Shape extends z.ZodRawShape = z.ZodRawShape, C = unknown> {
  /** Its name: `config.ticketing.<system>`, its webhook path, a TETHER_ONE_CLICK_HELP_DESK value. */
  readonly system: string;
  readonly variables: HelpDeskVariables;
  /** Every TETHER_<SYSTEM>_* variable it reads, with its shape and default. */
  readonly env: Shape;
  /** Its typed config from its parsed variables; undefined while it is not switched on. */
  config(vars: z.output<z.ZodObject<Shape>>): C | undefined;
}

/** A registry entry as config loading sees it: the generic help desk has no settings of its own. */
export interface HelpDeskEntry {
  readonly system: string;
  readonly settings?: HelpDeskSettings | undefined;
}

/**
 * Each vendor help desk's typed config by system. Empty here: ticketing/help-desks.ts fills it from
 * its registry (declaration merging), so shared/ names no vendor and `config.ticketing.zendesk`
 * still has its type.
 */
export interface HelpDeskConfigs {}

export type TicketingConfig = {
  /** Comments to one ticket within this window are posted as one (0: each at once). */
  commentBurstMs: number;
  /** The help desk one-click opens tickets in: `generic` or a registered vendor. */
  oneClickHelpDesk: string;
} & { [S in keyof HelpDeskConfigs]?: HelpDeskConfigs[S] | undefined };

const BURST_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The variables every help desk shares; TETHER_ONE_CLICK_HELP_DESK names one of the registry. */
function ticketingEnvSchema(helpDesks: readonly HelpDeskEntry[]) {
  const systems = [...new Set([DEFAULT_HELP_DESK, ...helpDesks.map((d) => d.system)])] as [string, ...string[]];
  return z.object({
    TETHER_COMMENT_BURST: z.string().regex(/^(0|\d+[smh])$/, 'must be a duration such as 30s, or 0 to post each comment at once').default('30s'),
    TETHER_ONE_CLICK_HELP_DESK: z.enum(systems).default(DEFAULT_HELP_DESK),
  });
}

/** Presence rules over the raw environment, so they are listed together with the shape problems. */
function helpDeskPresenceProblems(env: NodeJS.ProcessEnv, helpDesks: readonly HelpDeskEntry[]): string[] {
  const set = (name: string) => Boolean(env[name]);
  const problems: string[] = [];
  for (const { system, settings } of helpDesks) {
    if (!settings) continue;
    const rule = settings.variables;
    const prefix = `TETHER_${system.toUpperCase()}_`;
    const any = Object.keys(env).some((k) => k.startsWith(prefix) && k !== rule.secret && set(k));
    if (any && !set(rule.secret)) problems.push(`${rule.secret}: required when other ${prefix}* variables are set`);
    const apiSet = rule.api.filter(set);
    if (apiSet.length > 0) for (const missing of rule.api.filter((n) => !set(n))) problems.push(`${missing}: required with ${apiSet.join(', ')}`);
    if (set(rule.secret)) for (const missing of rule.needs.filter((n) => !set(n))) problems.push(`${missing}: required when ${rule.secret} is set`);
    if (env.TETHER_ONE_CLICK_HELP_DESK === system) {
      for (const missing of [rule.secret, ...rule.api].filter((n) => !set(n))) problems.push(`${missing}: required when TETHER_ONE_CLICK_HELP_DESK is ${system}`);
    }
  }
  return problems;
}

/** The help desks' part of the configuration, with every problem their variables have, in registry order. */
function ticketingSettings(env: NodeJS.ProcessEnv, helpDesks: readonly HelpDeskEntry[]): { ticketing: TicketingConfig | undefined; problems: string[] } {
  const common = ticketingEnvSchema(helpDesks).safeParse(env);
  const vendors = z.object(Object.assign({}, ...helpDesks.map((d) => d.settings?.env ?? {})) as z.ZodRawShape).safeParse(env);
  const problems = [...issueLines(common.error), ...issueLines(vendors.error), ...helpDeskPresenceProblems(env, helpDesks)];
  if (!common.success || !vendors.success) return { ticketing: undefined, problems };
  const burst = /^(\d+)([smh])$/.exec(common.data.TETHER_COMMENT_BURST);
  const desks = helpDesks.flatMap(({ system, settings }) => (settings ? [[system, settings.config(vendors.data)] as const] : []));
  const ticketing = {
    commentBurstMs: burst ? Number(burst[1]) * BURST_UNIT_MS[burst[2] as keyof typeof BURST_UNIT_MS] : 0,
    oneClickHelpDesk: common.data.TETHER_ONE_CLICK_HELP_DESK,
    // Each settings.config() makes the type its ticketing/<vendor>/<vendor>.config.ts declares for its system.
    ...(Object.fromEntries(desks) as Omit<TicketingConfig, 'commentBurstMs' | 'oneClickHelpDesk'>),
  };
  return { ticketing, problems };
}

export interface ServerConfig {
  home: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  api: { host: string; port: number; adminToken: string | undefined; webhookSecret: string | undefined };
  relay: {
    listen: string;
    port: number;
    publicHost: string;
    publicPort: number | undefined;
    keepaliveMs: number;
    heartbeatFlushMs: number;
    /** TETHER_RELAY_ENDPOINTS: every relay keys name, in order; undefined: publicHost/publicPort alone. */
    endpoints: readonly HostPort[] | undefined;
    /** TETHER_RELAY_ORDER: `serial` starts each key's list at a relay picked by its serial. */
    order: 'ordered' | 'serial';
    /** The peer listener (listen address, port) and the host peers dial (undefined: derived at start). */
    peer: { listen: string; port: number; host: string | undefined };
    drainMs: number;
    /** Relay processes sharing the relay port (TETHER_RELAY_PROCESSES). */
    processes: number;
  };
  /** WAIT before effects outside Redis (shared/redis-durability.ts): replicas to wait for (0: none), for how long. */
  redisWait: { replicas: number; timeoutMs: number };
  /** REDIS_SENTINELS / REDIS_SENTINEL_NAME; undefined: REDIS_URL names the server itself. */
  redisSentinel: { sentinels: readonly HostPort[]; name: string; password: string | undefined } | undefined;
  lostGraceMs: number;
  /** TETHER_WARN_OFFSETS in ms (e.g. [86_400_000, 3_600_000]). */
  warnOffsetsMs: readonly number[];
  /** Support mailbox for key-sent and failed-job notices (default: the TETHER_MAIL_FROM address). */
  operatorEmail: string;
  /** Whether the support mailbox hears of every key mailed (TETHER_KEY_SENT_NOTICE=on). */
  keySentNotice: boolean;
  /** SMTP connections the workers' mailer pools (0: one per mail). */
  smtpPool: number;
  /** Life of keys provisioned for tickets, as a duration (`7d`). */
  ticketKeyTtlMs: number;
  ticketCommentUrl: string | undefined;
  /** The vendor help desks the registry given to loadServerConfig names (the generic one is configured by webhookSecret and ticketCommentUrl). */
  ticketing: TicketingConfig;
  logLevel: ServerEnv['TETHER_LOG_LEVEL'];
  /** The metrics listener (shared/metrics-listener.ts); port undefined: none. */
  metrics: { host: string; port: number | undefined };
  shutdownMs: number;
  log: { format: 'json' | 'human'; dir: string | undefined };
  /** Console single sign-on (TETHER_OIDC_*, shared/sso-config.ts); undefined: not configured. */
  sso: SsoConfig | undefined;
  /** TETHER_PUBLIC_URL: where browsers reach the api (no trailing slash); undefined: taken from each request. */
  publicUrl: string | undefined;
  engineerPolicy: 'assigned' | 'all';
}

/** REDIS_SENTINELS and REDIS_SENTINEL_NAME go together. */
function sentinelPresenceProblems(env: NodeJS.ProcessEnv): string[] {
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) return ['REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master name the sentinels monitor)'];
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) return ['REDIS_SENTINELS: required with REDIS_SENTINEL_NAME'];
  return [];
}

/** Lists every problem at once, each naming its variable. */
function issueLines(error: z.ZodError | undefined): string[] {
  return (error?.issues ?? []).map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
}

/**
 * Relays write every live tunnel's heartbeat once per flush; the monitor marks a session LOST when
 * its heartbeat is older than the grace. A grace of two flushes or less marks live tunnels LOST.
 */
function heartbeatProblems(e: { TETHER_LOST_GRACE_MS: number; TETHER_HEARTBEAT_FLUSH_MS: number } | undefined): string[] {
  if (!e || e.TETHER_LOST_GRACE_MS > 2 * e.TETHER_HEARTBEAT_FLUSH_MS) return [];
  return [`TETHER_LOST_GRACE_MS: must be more than twice TETHER_HEARTBEAT_FLUSH_MS (${e.TETHER_HEARTBEAT_FLUSH_MS} ms), or live tunnels are marked LOST between their heartbeats`];
}

/**
 * `helpDesks`: the help-desk registry (ticketing/help-desks.ts), which the entry points of processes
 * that serve help desks pass in; without it, only the generic help desk is known and vendor
 * variables are not read.
 */
export function loadServerConfig(env: NodeJS.ProcessEnv = process.env, helpDesks: readonly HelpDeskEntry[] = []): Readonly<ServerConfig> {
  const parsed = serverEnvSchema.safeParse(env);
  const desks = ticketingSettings(env, helpDesks);
  const sso = ssoSettings(env);
  const problems = [...issueLines(parsed.error), ...desks.problems, ...sso.problems, ...sentinelPresenceProblems(env), ...heartbeatProblems(parsed.data)];
  if (!parsed.success || !desks.ticketing || problems.length) throw new AppError('config_invalid', `invalid configuration: ${problems.join('; ')}`);
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
      endpoints: e.TETHER_RELAY_ENDPOINTS,
      order: e.TETHER_RELAY_ORDER,
      peer: { listen: e.TETHER_RELAY_PEER_LISTEN ?? e.TETHER_RELAY_LISTEN, port: e.TETHER_RELAY_PEER_PORT, host: e.TETHER_RELAY_PEER_HOST },
      drainMs: e.TETHER_RELAY_DRAIN_MS,
      processes: e.TETHER_RELAY_PROCESSES,
    },
    redisWait: { replicas: e.TETHER_REDIS_WAIT_REPLICAS ?? (e.REDIS_SENTINELS ? 1 : 0), timeoutMs: e.TETHER_REDIS_WAIT_MS },
    redisSentinel: e.REDIS_SENTINELS ? { sentinels: e.REDIS_SENTINELS, name: e.REDIS_SENTINEL_NAME!, password: e.REDIS_SENTINEL_PASSWORD } : undefined,
    lostGraceMs: e.TETHER_LOST_GRACE_MS,
    warnOffsetsMs: e.TETHER_WARN_OFFSETS,
    operatorEmail: e.TETHER_OPERATOR_EMAIL ?? mailAddressOf(e.TETHER_MAIL_FROM),
    keySentNotice: e.TETHER_KEY_SENT_NOTICE === 'on',
    smtpPool: e.TETHER_SMTP_POOL,
    ticketKeyTtlMs: e.TETHER_TICKET_KEY_TTL,
    ticketCommentUrl: e.TETHER_TICKET_COMMENT_URL,
    ticketing: desks.ticketing,
    logLevel: e.TETHER_LOG_LEVEL,
    metrics: { host: e.TETHER_METRICS_HOST, port: e.TETHER_METRICS_PORT },
    shutdownMs: e.TETHER_SHUTDOWN_MS,
    engineerPolicy: e.TETHER_ENGINEER_POLICY,
    log: { format: e.TETHER_LOG_FORMAT, dir: e.TETHER_LOG_DIR ? resolve(e.TETHER_LOG_DIR) : undefined },
    sso: sso.sso,
    publicUrl: sso.publicUrl,
  });
}

/** Entry points that need Redis call this; the message names the variable. */
export function requireRedisUrl(config: Readonly<ServerConfig>): string {
  if (!config.redisUrl) throw new AppError('config_invalid', 'invalid configuration: REDIS_URL: required (e.g. redis://127.0.0.1:6379)');
  return config.redisUrl;
}


