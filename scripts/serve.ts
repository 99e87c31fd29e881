#!/usr/bin/env node
// The server entry point: hosts any of api, workers and relay in one process (the embedded
// default runs all three). Reads config once, opens and closes every connection, and prints
// where each role listens. SIGINT/SIGTERM close everything cleanly; a relay drains first (its
// appliances move to other relays of the fleet, open engineer channels get TETHER_RELAY_DRAIN_MS).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { buildApiServer } from '../api/api-server.js';
import { QueueCensus } from '../queues/queue-census.js';
import { missingRelayNodeFlags } from '../relay/node-flags.js';
import { RelayServer } from '../relay/relay-server.js';
import { loadServerConfig } from '../shared/config.js';
import { describeError } from '../shared/errors.js';
import { loadOrCreateRelayHostKey, loadOrCreateSigningKey } from '../shared/key/key-files.js';
import { createServerLogger } from '../shared/logger.js';
import { parseMail } from '../shared/mail/mail-parse.js';
import { createMailer } from '../shared/mail/mailer.js';
import { createSmtpCapture, outboxDir } from '../shared/mail/smtp-capture.js';
import { MetricsListener } from '../shared/metrics-listener.js';
import { createMetrics } from '../shared/metrics.js';
import { makeOwnerOnly } from '../shared/private-files.js';
import { connectOrExplain, openRedis, watchRedis } from '../shared/redis.js';
import { replicaWait } from '../shared/redis-durability.js';
import { AccessStore } from '../shared/store/access.store.js';
import { RedisAuditLog } from '../shared/store/redis-audit.store.js';
import { RedisEngineerDirectory } from '../shared/store/redis-engineer.store.js';
import { EscrowDepositStore } from '../shared/store/escrow-deposit.store.js';
import { SessionCensus } from '../shared/store/session-census.js';
import { RelayFleetStore } from '../shared/store/relay-fleet.store.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { buildTicketAdapters, HELP_DESKS } from '../ticketing/help-desks.js';
import { helpDeskLines, helpDeskStatuses } from '../ticketing/help-desk-status.js';
import { localTicketSink } from '../ticketing/local-ticket-sink.js';
import { startWorkers } from '../workers/start-workers.js';
import { isRelayProcess, reportRelayReady, startRelayProcesses, type RelayProcesses } from './relay-processes.js';
import { keyRelays, resolveRedisUrl } from './runtime.js';

const ROLES = ['api', 'workers', 'relay'] as const;
type Role = (typeof ROLES)[number];

interface Closable {
  close(): Promise<void>;
}

function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || roles.length === 0) {
    process.stderr.write(`serve: invalid --roles "${text}": use a comma-separated subset of ${ROLES.join(',')}\n`);
    process.exit(2);
  }
  return roles as Role[];
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);
/** A SIGINT and a SIGTERM closer together than this are one request to stop (see shutdown()). */
const SAME_REQUEST_MS = 1_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      roles: { type: 'string', default: ROLES.join(',') },
      'smtp-capture': { type: 'boolean', default: false },
      // Embedded default: generic help-desk comments go to TETHER_HOME/tickets/ when no comment URL is set.
      'ticket-sink': { type: 'boolean', default: false },
    },
  });
  const roles = parseRoles(values.roles ?? '');
  // Every help desk of the registry has its variables checked here, with the rest.
  const config = loadServerConfig(process.env, HELP_DESKS);
  // A relay per core: forked relay processes (scripts/relay-processes.ts) take the relay role from this one.
  const forkRelays = roles.includes('relay') && config.relay.processes > 1 && !isRelayProcess();
  if (forkRelays && config.relay.port === 0) throw new Error('invalid configuration: TETHER_RELAY_PROCESSES above 1 needs a fixed TETHER_RELAY_PORT (not 0)');
  const here = forkRelays ? roles.filter((r) => r !== 'relay') : roles;
  let relayProcesses: RelayProcesses | undefined;
  const ticketKeyTtlMs = config.ticketKeyTtlMs;
  const logger = createServerLogger('tether', config.logLevel, config.log);
  // TETHER_HOME holds keys, mails with keys and the Redis AOF: owner-only, older installs narrowed too.
  const notOwnerOnly = makeOwnerOnly(config.home);
  if (notOwnerOnly.length) logger.warn({ paths: notOwnerOnly.slice(0, 20), count: notOwnerOnly.length }, 'could not make these paths under TETHER_HOME owner-only');
  // One registry for the API (webhooks) and the workers (comments): the generic help desk and every configured vendor.
  const localSink =
    values['ticket-sink'] && !config.ticketCommentUrl
      ? localTicketSink(join(config.home, 'tickets'), (t, file) => say(`ticket comment filed: ${t.system}:${t.id} → ${file}`))
      : undefined;
  const adapters = buildTicketAdapters(config, { now: () => Date.now(), localSink });
  const redisUrl = resolveRedisUrl(config);
  // Fail at once with one line when Redis is not there, instead of retrying in the background.
  (await connectOrExplain(openRedis(redisUrl, { failFast: true, name: 'tether-probe' }), redisUrl)).disconnect();
  // Dev keys are generated on first start and only read afterwards.
  const signingKey = loadOrCreateSigningKey(config.home);
  const hostKey = loadOrCreateRelayHostKey(config.home);
  const open: Closable[] = [];
  let draining: { drain(limitMs: number): Promise<{ moved: number; cut: number; tookMs: number }> } | undefined;
  const connections: Redis[] = [];
  const watches: { quiet(): void }[] = [];
  const connect = (name: string) => {
    const c = openRedis(redisUrl, { name });
    watches.push(watchRedis(c, logger, name));
    connections.push(c);
    return c;
  };
  const redis = connect('tether');

  // One Ctrl-C under scripts/up reaches us twice within milliseconds: as SIGINT from the terminal's
  // process group and as the SIGTERM scripts/up passes on. The same signal again, or another one
  // later, means "now".
  let closing: { signal: string; at: number } | undefined;
  const shutdown = async (signal: string) => {
    if (closing) {
      if (signal !== closing.signal && Date.now() - closing.at < SAME_REQUEST_MS) return;
      say(`serve: ${signal} again: exiting now`);
      process.exit(130);
    }
    closing = { signal, at: Date.now() };
    say(`serve: ${signal}: shutting down (up to ${config.shutdownMs / 1000} s${draining || relayProcesses ? ' after the relay drained' : ''}; ${signal} again to exit now)`);
    if (relayProcesses) {
      const guard = setTimeout(() => (say('serve: relay processes did not exit in time: exiting now'), process.exit(1)), config.relay.drainMs + config.shutdownMs);
      guard.unref();
      await relayProcesses.stop('SIGTERM');
      clearTimeout(guard);
      say(`relay processes stopped (${config.relay.processes})`);
    }
    const exitAfter = (ms: number, what: string) => {
      const timer = setTimeout(() => {
        say(`serve: not closed after ${ms / 1000} s (${what}): exiting now`);
        process.exit(1);
      }, ms);
      timer.unref();
      return timer;
    };
    if (draining) {
      // The drain has its own limit (open engineer channels); the shutdown deadline starts after it.
      say(`relay draining: no new logins, appliances sent to other relays, open engineer channels get up to ${config.relay.drainMs / 1000} s`);
      const guard = exitAfter(config.relay.drainMs + config.shutdownMs, 'the relay drain did not finish');
      const r = await draining.drain(config.relay.drainMs).catch((err: unknown) => (logger.error({ err: describeError(err) }, 'drain failed'), undefined));
      clearTimeout(guard);
      if (r) say(`relay drained in ${r.tookMs} ms: ${r.moved} appliances sent on${r.cut ? `, ${r.cut} engineer channels cut at the limit` : ''}`);
    }
    exitAfter(config.shutdownMs, 'jobs or connections still busy');
    // Stop reconnecting: a Redis that left first must not keep the process (or its log) busy.
    for (const w of watches) w.quiet();
    for (const c of connections) c.options.retryStrategy = () => null;
    for (const c of open.reverse()) await c.close().catch((err) => logger.error({ err: describeError(err) }, 'close failed'));
    for (const c of connections) c.disconnect();
    say('serve: stopped');
    process.exit(0);
  };
  if (isRelayProcess()) {
    // A relay process is told by the primary (SIGTERM, once); a terminal's Ctrl-C reaches it too and is left to the primary.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    // The primary is gone (killed, or its second Ctrl-C): nothing supervises this relay any more.
    process.on('disconnect', () => process.exit(1));
  } else {
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  }

  // One registry for every role in this process; scraped at the api's /metrics and/or TETHER_METRICS_PORT.
  const metrics = createMetrics({ roles: here, logger: logger.child({ component: 'metrics' }) });
  let relayPort = config.relay.port;
  if (forkRelays) {
    relayProcesses = await startRelayProcesses(config.relay.processes, say);
    say(`relay: ${config.relay.processes} processes share ${config.relay.listen}:${relayPort} (a relay per core; each a member of the fleet)`);
  }
  if (here.includes('relay')) {
    const activationWait = replicaWait({ ...config.redisWait, onShort: (acked) => logger.warn({ acked }, 'activation not on enough Redis replicas in time') });
    const relay = new RelayServer({
      sessions: new RedisSessionStore(redis, config.redisPrefix),
      engineers: new RedisEngineerDirectory(redis, config.redisPrefix),
      access: new AccessStore(redis, config.redisPrefix),
      engineerPolicy: config.engineerPolicy,
      audit: new RedisAuditLog(redis, config.redisPrefix),
      custody: new EscrowDepositStore(redis, config.redisPrefix),
      subscriber: connect('tether-relay-sub'),
      hostKey,
      listen: { host: config.relay.listen, port: config.relay.port },
      keepaliveMs: config.relay.keepaliveMs,
      heartbeatFlushMs: config.relay.heartbeatFlushMs,
      relayId: `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
      now: () => Date.now(),
      logger: logger.child({ role: 'relay' }),
      metrics,
      replicated: config.redisWait.replicas ? () => activationWait(redis) : undefined,
      fleet: {
        store: new RelayFleetStore(redis, config.redisPrefix),
        peerListen: { host: config.relay.peer.listen, port: config.relay.peer.port },
        // Peers dial this; a wildcard listen address is no address to dial, the host name is.
        peerHost: config.relay.peer.host ?? (WILDCARD.has(config.relay.peer.listen) ? hostname() : config.relay.peer.listen),
      },
    });
    relayPort = await relay.start();
    const missing = missingRelayNodeFlags();
    if (missing.length) logger.info({ missing }, `relay: node started without ${missing.join(' ')}: relaying costs up to twice the CPU per GiB on a busy host (docs/operations.md, "Sizing")`);
    open.push(relay);
    draining = relay;
    say(`relay listening on ${config.relay.listen}:${relayPort} (host key ${hostKey.fingerprint}; peers on port ${relay.peerPort ?? '-'})`);
    reportRelayReady();
  }

  if (here.includes('workers')) {
    let smtpUrl = config.smtpUrl;
    if (!smtpUrl && values['smtp-capture']) {
      const capture = createSmtpCapture({ outboxDir: outboxDir(config.home) });
      const at = await capture.start();
      // The console shows who got what; the key itself stays in the .eml file, never in output.
      capture.onMail((mail) => say(`mail captured: "${parseMail(mail.raw).subject}" to ${mail.to.join(', ')} → ${mail.file}`));
      open.push(capture);
      smtpUrl = at.url;
      say(`smtp capture listening on ${at.host}:${at.port} (mail stored in ${outboxDir(config.home)})`);
    }
    if (!smtpUrl) throw new Error('invalid configuration: SMTP_URL: required for the workers role (or run scripts/up, which starts a capture)');
    const mailer = createMailer({ smtpUrl, from: config.mailFrom, maxConnections: config.smtpPool });
    const workers = await startWorkers({
      config,
      redisUrl,
      prefix: config.redisPrefix,
      signingKey,
      relay: keyRelays(config, hostKey, relayPort),
      mailer,
      adapters,
      logger: logger.child({ role: 'workers' }),
      tuning: { ticketKeyTtlMs, operatorEmail: config.operatorEmail },
      metrics,
    });
    open.push({ close: async () => mailer.close() }, workers);
    say('workers running: ticket-events, key-issue, key-delivery, notifications, ticket-sync, expiry, tunnel-monitor');
  }

  if (here.includes('api')) {
    const app = await buildApiServer({
      config,
      redis,
      prefix: config.redisPrefix,
      logger: logger.child({ role: 'api' }),
      adapters,
      // One-click mints keys in the API, with the same signing key and relay endpoint as the workers.
      oneClick: { signingKey, relay: keyRelays(config, hostKey, relayPort) },
      metrics,
      // Operators get the ssh-config with the pinned host key, and in dev (embedded SMTP capture) the outbox.
      relayHostKeyLine: hostKey.publicLine,
      ...(!config.smtpUrl && values['smtp-capture'] ? { outboxDir: outboxDir(config.home) } : {}),
    });
    // Redis-wide gauges (sessions, queues) are the api role's: every api replica reports the same values.
    const queueCensus = new QueueCensus(redis, config.redisPrefix, { now: () => Date.now() });
    metrics.watchCluster({ sessions: new SessionCensus(redis, config.redisPrefix, { now: () => Date.now() }), queues: queueCensus });
    open.push(queueCensus);
    await app.listen({ host: config.api.host, port: config.api.port });
    open.push({ close: () => app.close() });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.api.port;
    say(`api listening on http://${config.api.host}:${port}`);
  }
  if (config.metrics.port !== undefined) {
    // Relay process N of a relay per core serves its own metrics on the port after the primary's + N.
    const slot = Number(process.env.TETHER_RELAY_PROCESS ?? 0);
    const listener = new MetricsListener({ metrics, listen: { host: config.metrics.host, port: config.metrics.port === 0 ? 0 : config.metrics.port + slot }, logger: logger.child({ component: 'metrics' }) });
    const port = await listener.start();
    open.push(listener);
    say(`metrics listening on http://${config.metrics.host}:${port}/metrics`);
  } else if (!here.includes('api') && !isRelayProcess()) {
    say('metrics: not served (no api role in this process; set TETHER_METRICS_PORT)');
  }
  if (isRelayProcess()) return;
  for (const line of helpDeskLines(helpDeskStatuses(config, { localSink: Boolean(localSink) }), { ticketsDir: localSink?.dir })) say(line);
  const shown = forkRelays ? roles.map((r) => (r === 'relay' ? `relay ×${config.relay.processes}` : r)) : roles;
  say(`ready: ${shown.join(', ')} (TETHER_HOME ${config.home}, signing key ${signingKey.kid})`);
}

main().catch((err: unknown) => {
  process.stderr.write(`serve: ${describeError(err)}\n`);
  process.exit(1);
});
