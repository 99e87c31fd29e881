// Expiry lateness: sessions whose deadlines are spread over a window (1,000 in one minute), then
// the same number due at one instant, through the production workers (serve.js --roles workers):
// the audit bridge plans each session's delayed expire job, the expiry worker closes it. Lateness
// = closedAt − expiresAt from the session records (both on this machine's clock).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { newId } from '../shared/session/issue-key.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { QueueWatch } from './lib/pipeline-queues.js';
import { startPipelineStack, type PipelineStack } from './lib/pipeline-server.js';
import { percentile } from './lib/stats.js';
import { jobIds } from '../queues/job-ids.js';
import { QUEUE } from '../queues/queue-names.js';
import { bullPrefix } from '../shared/store/redis-keys.js';

export interface PipelineExpiryOptions {
  sessions: number;
  /** The deadlines of the spread case are spread evenly over this window. */
  spreadMs: number;
  /** Time between creating the sessions and the first deadline (planning happens in it). */
  leadMs: number;
  log: (line: string) => void;
}

export interface LatenessFigures {
  sessions: number;
  windowMs: number;
  closed: number;
  /** Closed with a reason other than `expired`, or still open at the end. */
  wrong: number;
  /** Sessions closed before their deadline (should be none). */
  early: number;
  p50: number;
  p99: number;
  max: number;
  /** Deadline → the expire job became active in BullMQ (from its events stream), ms: the part of
   * the lateness that is BullMQ's promotion of delayed jobs; the rest is the job's own work. */
  pickupP50: number;
  pickupP99: number;
  /** Creating the sessions → every expire job planned (delayed in BullMQ), ms. */
  planningMs: number;
  /** Expire jobs not yet planned when the first deadline came. */
  unplannedAtDeadline: number;
  serverCpuSeconds: number;
  redisCpuSeconds: number;
  load: string;
}

export interface PipelineExpiryResult {
  spread: LatenessFigures;
  burst: LatenessFigures;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When each of the given expire jobs turned active: the time part of its `active` event's stream id. */
async function activations(stack: PipelineStack, jobs: ReadonlyMap<string, string>): Promise<Map<string, number>> {
  const stream = `${bullPrefix(stack.prefix)}:${QUEUE.expiry}:events`;
  const out = new Map<string, number>();
  let start = '-';
  for (;;) {
    const entries = (await stack.redis.xrange(stream, start, '+', 'COUNT', 5_000)) as [string, string[]][];
    for (const [id, fields] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
      const sid = f.jobId ? jobs.get(f.jobId) : undefined;
      if (f.event === 'active' && sid && !out.has(sid)) out.set(sid, Number(id.split('-')[0]));
    }
    if (entries.length < 5_000) return out;
    start = `(${(entries[entries.length - 1] as [string, string[]])[0]}`;
  }
}

/** How many of the sessions' expire jobs exist in BullMQ (job hash present). */
async function plannedJobs(stack: PipelineStack, expiresAt: ReadonlyMap<string, number>): Promise<number> {
  const p = stack.redis.pipeline();
  for (const [sid, at] of expiresAt) p.exists(`${bullPrefix(stack.prefix)}:${QUEUE.expiry}:${jobIds.expiry(sid, 'expire', at)}`);
  const res = (await p.exec()) ?? [];
  return res.filter(([, v]) => v === 1).length;
}

async function runCase(stack: PipelineStack, o: PipelineExpiryOptions, tag: string, windowMs: number): Promise<LatenessFigures> {
  const sessions = new RedisSessionStore(stack.redis, stack.prefix);
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const cpu0 = { server: stack.serverCpuSeconds(), redis: stack.redisCpuSeconds() };
  const created = Date.now();
  const first = created + o.leadMs;
  const ids: string[] = [];
  const expiresAt = new Map<string, number>();
  for (let i = 0; i < o.sessions; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, o.sessions - i) }, async (_, k) => {
        const n = i + k;
        const id = newId();
        const at = first + Math.floor((n * windowMs) / o.sessions);
        ids.push(id);
        expiresAt.set(id, at);
        await sessions.create(
          { id, jti: newId(), serial: `EXP${tag}-${n}`, product: 'sma', version: '10.1', ports: [22, 443], tunnelPub: randomBytes(32), issuedAt: created, expiresAt: at },
          'operator:bench',
        );
      }),
    );
  }
  // The audit bridge plans one expire job per session from its `session.issued` entry.
  let planningMs = Number.NaN;
  let unplanned = o.sessions;
  while (Date.now() < first) {
    unplanned = o.sessions - (await plannedJobs(stack, expiresAt));
    if (unplanned <= 0) {
      planningMs = Date.now() - created;
      break;
    }
    await sleep(200);
  }
  if (unplanned > 0) o.log(`pipeline-expiry ${tag}: ${unplanned} expire jobs not planned at the first deadline`);
  o.log(`pipeline-expiry ${tag}: ${o.sessions} sessions, deadlines over ${windowMs} ms from +${o.leadMs} ms; planned in ${planningMs.toFixed(0)} ms`);
  await sleep(Math.max(0, first + windowMs - Date.now()));
  const deadline = Date.now() + 120_000;
  let records: { id: string; state: string | null; closedAt: string | null; reason: string | null }[] = [];
  for (;;) {
    const p = stack.redis.pipeline();
    for (const id of ids) p.hmget(sessions.keys.session(id), 'state', 'closedAt', 'reason');
    const res = (await p.exec()) ?? [];
    records = res.map(([, v], k) => {
      const [state, closedAt, reason] = (v as (string | null)[]) ?? [];
      return { id: ids[k] as string, state: state ?? null, closedAt: closedAt ?? null, reason: reason ?? null };
    });
    if (records.every((r) => r.state === 'CLOSED') || Date.now() > deadline) break;
    await sleep(250);
  }
  const closed = records.filter((r) => r.state === 'CLOSED' && r.reason === 'expired' && r.closedAt);
  const lateness = closed.map((r) => Number(r.closedAt) - (expiresAt.get(r.id) as number));
  const active = await activations(stack, new Map([...expiresAt].map(([sid, at]) => [jobIds.expiry(sid, 'expire', at), sid])));
  const pickup = [...active].map(([sid, at]) => at - (expiresAt.get(sid) as number));
  return {
    sessions: o.sessions,
    windowMs,
    closed: closed.length,
    wrong: o.sessions - closed.length,
    early: lateness.filter((x) => x < 0).length,
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
    max: percentile(lateness, 100),
    pickupP50: percentile(pickup, 50),
    pickupP99: percentile(pickup, 99),
    planningMs,
    unplannedAtDeadline: Math.max(0, unplanned),
    serverCpuSeconds: stack.serverCpuSeconds() - cpu0.server,
    redisCpuSeconds: stack.redisCpuSeconds() - cpu0.redis,
    load,
  };
}

export async function benchPipelineExpiry(o: PipelineExpiryOptions): Promise<PipelineExpiryResult> {
  const stack = await startPipelineStack({ processes: ['workers'] });
  const watch = new QueueWatch(stack.redis, stack.prefix);
  try {
    const spread = await runCase(stack, o, 's', o.spreadMs);
    o.log(`pipeline-expiry spread: ${spread.closed}/${spread.sessions} expired; lateness p50 ${spread.p50} ms, p99 ${spread.p99} ms, max ${spread.max} ms; job active p50 ${spread.pickupP50} ms, p99 ${spread.pickupP99} ms after the deadline`);
    await watch.waitIdle(60_000);
    const burst = await runCase(stack, o, 'b', 0);
    o.log(`pipeline-expiry burst: ${burst.closed}/${burst.sessions} expired; lateness p50 ${burst.p50} ms, p99 ${burst.p99} ms, max ${burst.max} ms; job active p50 ${burst.pickupP50} ms, p99 ${burst.pickupP99} ms after the deadline`);
    return { spread, burst };
  } finally {
    await watch.close();
    await stack.close();
  }
}
