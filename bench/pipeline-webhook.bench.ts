// Webhook accepted → key mail accepted by the SMTP server, through the production entry
// (dist/scripts/serve.js with the API and the workers): latency at a steady ticket rate, then the
// completion rate when N tickets arrive as fast as the API takes them (the sustained capacity).
import { loadavg } from 'node:os';
import { TicketLoad, type PhaseFigures } from './lib/pipeline-load.js';
import { QueueWatch, type StageTimes } from './lib/pipeline-queues.js';
import { startPipelineStack } from './lib/pipeline-server.js';
import { commandDelta, redisSnapshot, totalCalls } from './lib/redis-commandstats.js';
import { QUEUE, type QueueName } from '../queues/queue-names.js';

export interface PipelineWebhookOptions {
  /** Steady phase: tickets per second and seconds. */
  rate: number;
  seconds: number;
  /** Flood phase: tickets sent with `floodInFlight` requests outstanding. */
  floodTickets: number;
  floodInFlight: number;
  /** serve.js processes and their roles, e.g. ['api,workers'] or ['api', 'workers']. */
  processes: string[];
  log: (line: string) => void;
}

/** Redis commands of one phase (INFO commandstats delta, commands inside scripts included, the benchmark's own polling taken out). */
export interface PhaseRedis {
  commandsPerTicket: number;
  /** Per ticket, the commands that make up most of it. */
  topPerTicket: Record<string, number>;
  /** Redis exec time per ticket (commandstats usec), ms. */
  execMsPerTicket: number;
}

export interface PipelineWebhookResult {
  processes: string[];
  steady: PhaseFigures;
  flood: PhaseFigures;
  redis: { steady: PhaseRedis; flood: PhaseRedis };
  /** BullMQ jobs added per ticket in the flood phase (jobs of that phase's tickets, over every queue). */
  floodJobsPerTicket: number;
  /** Jobs failed for good over the whole run, per queue (should be none). */
  failedJobs: Record<string, number>;
  /** Jobs each queue holds at the end (completed ones are kept a week), the sweeps excluded. */
  jobsByQueue: Record<string, number>;
  jobsTotal: number;
  warmupTickets: number;
  mailsTotal: number;
  commentsTotal: number;
  load: { steady: string; flood: string };
  /** Per queue, for the jobs of the steady phase: BullMQ wait and run times. */
  steadyStages: Partial<Record<QueueName, StageTimes>>;
  serverWarnings: string[];
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function benchPipelineWebhook(o: PipelineWebhookOptions): Promise<PipelineWebhookResult> {
  const stack = await startPipelineStack({ processes: o.processes });
  const watch = new QueueWatch(stack.redis, stack.prefix);
  const loads: TicketLoad[] = [];
  const cpu = () => {
    const own = process.cpuUsage();
    return { server: stack.serverCpuSeconds(), redis: stack.redisCpuSeconds(), bench: (own.user + own.system) / 1e6 };
  };
  const since = (a: ReturnType<typeof cpu>) => {
    const b = cpu();
    return { server: b.server - a.server, redis: b.redis - a.redis, bench: b.bench - a.bench };
  };
  // Redis commands of one busy() poll of the queue watch, measured once, so that phases can leave out their own polling.
  const idle0 = await redisSnapshot(stack.redis);
  await watch.busy();
  const perPoll = totalCalls(commandDelta(idle0, await redisSnapshot(stack.redis)));
  const phaseRedis: PhaseRedis[] = [];
  const phase = async (tag: string, count: number, rate: number, inFlight: number, mailTimeoutMs: number) => {
    const l = new TicketLoad(stack, tag, inFlight);
    loads.push(l);
    const before = cpu();
    const r0 = await redisSnapshot(stack.redis);
    const polls0 = watch.polls;
    const ids = await l.offer(count, rate, inFlight);
    await l.awaitMails(ids, mailTimeoutMs);
    // Comments, operator notices and expiry planning of these tickets are part of their cost.
    if (!(await watch.waitIdle(180_000))) o.log('pipeline-webhook: queues still busy after 180 s');
    const r1 = await redisSnapshot(stack.redis);
    const delta = commandDelta(r0, r1);
    const figures = l.figures(ids, rate, since(before));
    const tickets = Math.max(1, figures.accepted);
    const polled = (watch.polls - polls0) * perPoll;
    const top = Object.entries(delta).sort((a, b) => b[1] - a[1]).slice(0, 12);
    phaseRedis.push({
      commandsPerTicket: (totalCalls(delta) - polled) / tickets,
      topPerTicket: Object.fromEntries(top.map(([k, v]) => [k, Math.round((v / tickets) * 10) / 10])),
      execMsPerTicket: (r1.usec - r0.usec) / 1000 / tickets,
    });
    return figures;
  };
  try {
    o.log(`pipeline-webhook: server ${o.processes.map((p) => `[${p}]`).join(' ')}, API ${stack.apiUrl}`);
    // JIT, SMTP pool and HTTP keep-alive connections warmed; not counted.
    const warmupTickets = Math.min(300, o.rate * 3);
    await phase('wu', warmupTickets, o.rate, 64, 60_000);
    const loadSteady = load();
    o.log(`pipeline-webhook: steady ${o.rate}/s for ${o.seconds} s (load ${loadSteady})`);
    const steadyFrom = Date.now();
    const steady = await phase('s', o.rate * o.seconds, o.rate, 256, 600_000);
    const steadyTo = Date.now();
    o.log(
      `pipeline-webhook: steady: ${steady.mailed}/${steady.offered} key mails; accepted → mail p50 ${steady.acceptedToMailP50.toFixed(0)} ms, ` +
        `p99 ${steady.acceptedToMailP99.toFixed(0)} ms, max ${steady.acceptedToMailMax.toFixed(0)} ms`,
    );
    const loadFlood = load();
    o.log(`pipeline-webhook: flood of ${o.floodTickets} tickets, ${o.floodInFlight} requests in flight (load ${loadFlood})`);
    const jobsBeforeFlood = await watch.jobsTotal();
    const flood = await phase('f', o.floodTickets, Infinity, o.floodInFlight, 600_000);
    const floodJobsPerTicket = ((await watch.jobsTotal()) - jobsBeforeFlood) / Math.max(1, flood.accepted);
    o.log(
      `pipeline-webhook: flood: ${flood.mailed}/${flood.offered} key mails; API took ${flood.acceptRate.toFixed(0)}/s; ` +
        `mail ${flood.mailRate.toFixed(0)}/s overall, ${flood.mailRateMid.toFixed(0)}/s between 10% and 90% of arrivals`,
    );
    const steadyStages: Partial<Record<QueueName, StageTimes>> = {};
    for (const q of [QUEUE.ticketEvents, QUEUE.keyIssue, QUEUE.keyDelivery, QUEUE.notifications, QUEUE.ticketSync]) steadyStages[q] = await watch.stageTimes(q, steadyFrom, steadyTo);
    const counts = await watch.counts();
    const failedJobs = Object.fromEntries(Object.entries(counts).map(([q, c]) => [q, c.failed ?? 0]).filter(([, n]) => Number(n) > 0));
    const jobsByQueue = Object.fromEntries(
      Object.entries(counts)
        .filter(([q]) => q !== QUEUE.tunnelMonitor)
        .map(([q, c]) => [q, Object.values(c).reduce((a, b) => a + b, 0)]),
    );
    return {
      processes: o.processes,
      steady,
      flood,
      redis: { steady: phaseRedis[1] as PhaseRedis, flood: phaseRedis[2] as PhaseRedis },
      floodJobsPerTicket,
      failedJobs,
      jobsByQueue,
      jobsTotal: Object.values(jobsByQueue).reduce((a, b) => a + b, 0),
      warmupTickets,
      mailsTotal: stack.mails.length,
      commentsTotal: stack.comments.count,
      load: { steady: loadSteady, flood: loadFlood },
      steadyStages,
      serverWarnings: stack.servers.flatMap((s) => s.problems()).slice(0, 5),
    };
  } finally {
    for (const l of loads) l.close();
    await watch.close();
    await stack.close();
  }
}
