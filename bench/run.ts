#!/usr/bin/env node
// `npm run bench`: runs every benchmark (or those named by --only) in one run, prints a Markdown
// table against the baselines and goals, and writes all figures to bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { benchEnableLatency } from './enable-latency.bench.js';
import { benchConsole } from './console.bench.js';
import { SERVICE_BENCH_DEFAULTS, benchApplianceService } from './appliance-service.bench.js';
import { benchIdleScale } from './idle-scale.bench.js';
import { ONECLICK_DEFAULTS, benchOneClick } from './oneclick.bench.js';
import { parseBenchOptions, PIPELINE_BENCHMARKS, type BenchName, type BenchOptions } from './lib/options.js';
import { formatContext, formatTable, type BenchResults } from './lib/report.js';
import { benchPipelineExpiry } from './pipeline-expiry.bench.js';
import { benchPipelineMonitor } from './pipeline-monitor.bench.js';
import { benchPipelineTeardown } from './pipeline-teardown.bench.js';
import { benchPipelineWebhook } from './pipeline-webhook.bench.js';
import { benchThroughput } from './throughput.bench.js';
import { benchFleet } from './fleet.bench.js';
import { benchFleetScale } from './fleet-scale.bench.js';
import { benchRelayCores } from './relay-cores.bench.js';

/** Repository root: this file runs as dist/bench/run.js. */
const ROOT = resolve(import.meta.dirname, '..', '..');

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function ssh2Version(): string {
  try {
    return (JSON.parse(readFileSync(resolve(ROOT, 'node_modules', 'ssh2', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function openFileLimit(): number {
  const m = readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\d+|unlimited)/m);
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

async function runOne(name: BenchName, o: BenchOptions, results: BenchResults): Promise<void> {
  const started = Date.now();
  log(`${name}: starting`);
  try {
    switch (name) {
      case 'throughput':
        results.throughput = await benchThroughput({ sizeMiB: o.sizeMiB, runs: o.runs, log });
        break;
      case 'idle-scale': {
        const limit = openFileLimit();
        // One fd per tunnel in the relay, plus Redis, listener and stdio.
        if (o.tunnels + 100 > limit) throw new Error(`open-file limit ${limit} is too low for ${o.tunnels} tunnels: raise it (ulimit -n ${o.tunnels + 1000})`);
        results.idleScale = await benchIdleScale({
          tunnels: o.tunnels,
          concurrency: o.concurrency,
          clientProcesses: 2,
          idleWindowMs: o.quick ? 0 : 15_000,
          settleMs: 12_000,
          log,
        });
        break;
      }
      case 'enable-latency':
        results.enableLatency = await benchEnableLatency({ runs: o.enableRuns, probeEveryMs: 5, log });
        break;
      case 'oneclick':
        results.oneClick = await benchOneClick({ runs: o.quick ? ONECLICK_DEFAULTS.quickRuns : ONECLICK_DEFAULTS.runs, concurrent: ONECLICK_DEFAULTS.concurrent, probeEveryMs: 5, log });
        break;
      case 'pipeline-webhook':
        results.pipelineWebhook = await benchPipelineWebhook({
          rate: o.ticketRate,
          seconds: o.ticketSeconds,
          floodTickets: o.floodTickets,
          floodInFlight: 64,
          processes: o.pipelineSplit ? ['api', 'workers'] : ['api,workers'],
          log,
        });
        break;
      case 'pipeline-expiry':
        results.pipelineExpiry = await benchPipelineExpiry({ sessions: o.expirySessions, spreadMs: o.expirySpreadS * 1000, leadMs: o.quick ? 8_000 : 15_000, log });
        break;
      case 'pipeline-teardown':
        results.pipelineTeardown = await benchPipelineTeardown({ teardowns: o.teardowns, gapMs: 20, log });
        break;
      case 'pipeline-monitor':
        results.pipelineMonitor = await benchPipelineMonitor({
          sessions: o.monitorSessions,
          staleCounts: [0, Math.round(o.monitorSessions / 100), Math.round(o.monitorSessions / 10)],
          runs: 3,
          log,
        });
        break;
      case 'appliance-service':
        results.applianceService = await benchApplianceService({
          runs: o.enableRuns,
          fleet: o.serviceFleet,
          baselineRuns: o.quick ? SERVICE_BENCH_DEFAULTS.quickBaselineRuns : SERVICE_BENCH_DEFAULTS.baselineRuns,
          probeEveryMs: 5,
          log,
        });
        break;
      case 'fleet':
        results.fleet = await benchFleet({ sizeMiB: o.sizeMiB, runs: o.runs, opens: o.quick ? 100 : 500, log });
        break;
      case 'fleet-scale': {
        // One fd per tunnel: after the drain the two other relays hold everything between them,
        // and each agent process holds its share.
        const limit = openFileLimit();
        const total = o.fleetTunnels + Math.max(0, o.drainTunnels - Math.ceil(o.fleetTunnels / 3)) + 60;
        const perProcess = Math.max(Math.ceil(total / 2), Math.ceil(total / o.agentProcesses));
        if (perProcess + 200 > limit) throw new Error(`open-file limit ${limit} is too low for ${perProcess} tunnels in one process: raise it (ulimit -n ${perProcess + 1000}) or use more --agent-processes`);
        results.fleetScale = await benchFleetScale({
          tunnels: o.fleetTunnels,
          drainTunnels: o.drainTunnels,
          concurrency: o.concurrency,
          agentProcesses: o.agentProcesses,
          idleWindowMs: o.quick ? 10_000 : 30_000,
          settleMs: 12_000,
          drainTimeoutMs: o.quick ? 120_000 : 600_000,
          log,
        });
        break;
      }
      case 'relay-cores':
        results.relayCores = await benchRelayCores({ streams: o.coresStreams, streamMiB: o.coresStreamMiB, runs: o.runs, applianceProcesses: 2, log });
        break;
      case 'console':
        results.console = await benchConsole({
          sessions: o.consoleSessions,
          listRequests: o.quick ? 100 : 300,
          sseClients: o.sseClients,
          transitionsPerSecond: o.sseRate,
          seconds: o.sseSeconds,
          log,
        });
        break;
    }
    log(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    results.errors.push({ bench: name, message });
    log(`${name}: FAILED: ${message}`);
  }
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    o = parseBenchOptions(process.argv.slice(2), process.env, resolve(ROOT, 'bench', 'results', 'latest.json'));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadBefore = load();
  const startedAt = new Date().toISOString();
  const results: BenchResults = { errors: [] };
  for (const name of o.only) await runOne(name, o, results);
  const context = {
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    sizes: [
      ...(o.only.some((b) => !PIPELINE_BENCHMARKS.includes(b) && b !== 'console' && b !== 'appliance-service' && b !== 'fleet-scale' && b !== 'relay-cores') ? [`${o.sizeMiB} MiB × ${o.runs} runs, ${o.tunnels} tunnels at ${o.concurrency} in flight, ${o.enableRuns} enable runs`] : []),
      ...(o.only.some((b) => PIPELINE_BENCHMARKS.includes(b))
        ? [
            `pipeline: ${o.ticketRate} tickets/s × ${o.ticketSeconds} s then a flood of ${o.floodTickets}${o.pipelineSplit ? ' (API and workers split)' : ''}, ` +
              `${o.expirySessions} expiries over ${o.expirySpreadS} s and at once, ${o.teardowns} teardowns, monitor over ${o.monitorSessions} sessions`,
          ]
        : []),
      ...(o.only.includes('appliance-service')
        ? [`appliance service: ${o.enableRuns} runs per flow and way, ${o.quick ? SERVICE_BENCH_DEFAULTS.quickBaselineRuns : SERVICE_BENCH_DEFAULTS.baselineRuns} without a service, ${o.serviceFleet} services clicked at once`]
        : []),
      ...(o.only.includes('fleet-scale')
        ? [`fleet scale: ${o.fleetTunnels} tunnels over 3 relays at ${o.concurrency} in flight from ${o.agentProcesses} agent processes, drain of ${o.drainTunnels || 'no'} tunnels`]
        : []),
      ...(o.only.includes('relay-cores') ? [`relay cores: ${o.coresStreams.join(' and ')} streams × ${o.coresStreamMiB} MiB, ${o.runs} runs per shape`] : []),
      ...(o.only.includes('console') ? [`console: ${o.consoleSessions} sessions, ${o.sseClients} event streams at ${o.sseRate} transitions/s for ${o.sseSeconds} s`] : []),
    ].join('; '),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}, ssh2 ${ssh2Version()}`,
    loadBefore,
    loadAfter: load(),
  };
  process.stdout.write(`\n${formatTable(results)}\n${formatContext(results, context)}`);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), options: o, context, ...results }, null, 2)}\n`);
  log(`results written to ${o.out}`);
  process.exit(results.errors.length ? 1 : 0);
}

void main();
