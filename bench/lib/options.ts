// Benchmark options from the command line and BENCH_* variables (flags win): sizes, run counts,
// which benchmarks to run. `--quick` picks small sizes for a smoke run.
import { parseArgs } from 'node:util';

export const BENCHMARKS = ['throughput', 'idle-scale', 'enable-latency', 'oneclick', 'pipeline-webhook', 'pipeline-expiry', 'pipeline-teardown', 'pipeline-monitor', 'console', 'appliance-service', 'fleet', 'fleet-scale', 'relay-cores'] as const;
export type BenchName = (typeof BENCHMARKS)[number];
/** `--only pipeline` names the four benchmarks of the ticket pipeline (issue 3). */
export const PIPELINE_BENCHMARKS: readonly BenchName[] = ['pipeline-webhook', 'pipeline-expiry', 'pipeline-teardown', 'pipeline-monitor'];

export interface BenchOptions {
  quick: boolean;
  only: BenchName[];
  /** Bytes sent per throughput run, in MiB. */
  sizeMiB: number;
  /** Throughput runs per side; the median is reported. */
  runs: number;
  /** Idle appliance tunnels held on one relay. */
  tunnels: number;
  /** Connection set-ups in flight at once (split over the client processes). */
  concurrency: number;
  /** `ktether enable` runs for the latency percentiles. */
  enableRuns: number;
  /** pipeline-webhook: steady webhook rate (tickets/s) and its duration (s). */
  ticketRate: number;
  ticketSeconds: number;
  /** pipeline-webhook: tickets sent at once to find the sustained end-to-end rate. */
  floodTickets: number;
  /** pipeline-webhook: API and workers in separate serve.js processes (default: one, as embedded). */
  pipelineSplit: boolean;
  /** pipeline-expiry: sessions per case (deadlines spread over `expirySpreadS`, then all at once). */
  expirySessions: number;
  expirySpreadS: number;
  /** pipeline-teardown: sequential revokes, each of a tunnel with an open engineer channel. */
  teardowns: number;
  /** pipeline-monitor: CONNECTED sessions the sweep runs over (0, 1% and 10% of them stale). */
  monitorSessions: number;
  /** console: sessions listed, /v1/events streams, transitions per second and for how long. */
  consoleSessions: number;
  sseClients: number;
  sseRate: number;
  sseSeconds: number;
  /** appliance-service: appliances' services clicked at once. */
  serviceFleet: number;
  /** fleet-scale: idle tunnels over 3 relays, and how many relay A holds when it is drained (0: no drain). */
  fleetTunnels: number;
  drainTunnels: number;
  /** fleet-scale: processes running the simulated appliances' agents. */
  agentProcesses: number;
  /** relay-cores: concurrent engineer streams per case (e.g. [2, 4]) and MiB per stream. */
  coresStreams: number[];
  coresStreamMiB: number;
  /** Where the JSON results go. */
  out: string;
}

const USAGE = `usage: node dist/bench/run.js [--quick] [--only ${BENCHMARKS.join(',')}|pipeline]
  [--size-mib N] [--runs N] [--tunnels N] [--concurrency N] [--enable-runs N] [--out FILE]
  [--ticket-rate N] [--ticket-seconds N] [--flood-tickets N] [--pipeline-split]
  [--expiry-sessions N] [--expiry-spread-s N] [--teardowns N] [--monitor-sessions N]
  [--console-sessions N] [--sse-clients N] [--sse-rate N] [--sse-seconds N] [--service-fleet N]
  [--fleet-tunnels N] [--drain-tunnels N|0] [--agent-processes N] [--cores-streams 2,4] [--cores-stream-mib N]
  env: BENCH_SIZE_MIB, BENCH_RUNS, BENCH_TUNNELS, BENCH_CONCURRENCY, BENCH_ENABLE_RUNS,
       BENCH_TICKET_RATE, BENCH_TICKET_SECONDS, BENCH_FLOOD_TICKETS, BENCH_EXPIRY_SESSIONS,
       BENCH_EXPIRY_SPREAD_S, BENCH_TEARDOWNS, BENCH_MONITOR_SESSIONS,
       BENCH_CONSOLE_SESSIONS, BENCH_SSE_CLIENTS, BENCH_SSE_RATE, BENCH_SSE_SECONDS, BENCH_SERVICE_FLEET,
       BENCH_FLEET_TUNNELS, BENCH_DRAIN_TUNNELS, BENCH_AGENT_PROCESSES, BENCH_CORES_STREAMS, BENCH_CORES_STREAM_MIB`;

function nonNegativeInt(name: string, text: string | undefined, fallback: number): number {
  if (text === '0') return 0;
  return positiveInt(name, text, fallback);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got "${text}"\n${USAGE}`);
  return n;
}

function positiveIntList(name: string, text: string | undefined, fallback: number[]): number[] {
  if (text === undefined || text === '') return fallback;
  const list = [...new Set(text.split(',').map((x) => x.trim()).filter(Boolean).map((x) => positiveInt(name, x, 1)))];
  if (list.length === 0) throw new Error(`${name}: expected a comma-separated list of positive integers, got "${text}"\n${USAGE}`);
  return list;
}

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv, defaultOut: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'size-mib': { type: 'string' },
      runs: { type: 'string' },
      tunnels: { type: 'string' },
      concurrency: { type: 'string' },
      'enable-runs': { type: 'string' },
      'ticket-rate': { type: 'string' },
      'ticket-seconds': { type: 'string' },
      'flood-tickets': { type: 'string' },
      'pipeline-split': { type: 'boolean', default: false },
      'expiry-sessions': { type: 'string' },
      'expiry-spread-s': { type: 'string' },
      teardowns: { type: 'string' },
      'service-fleet': { type: 'string' },
      'monitor-sessions': { type: 'string' },
      'console-sessions': { type: 'string' },
      'sse-clients': { type: 'string' },
      'sse-rate': { type: 'string' },
      'sse-seconds': { type: 'string' },
      'fleet-tunnels': { type: 'string' },
      'drain-tunnels': { type: 'string' },
      'agent-processes': { type: 'string' },
      'cores-streams': { type: 'string' },
      'cores-stream-mib': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const only = [...new Set((values.only ?? BENCHMARKS.join(',')).split(',').map((s) => s.trim()).filter(Boolean).flatMap((s): string[] => (s === 'pipeline' ? [...PIPELINE_BENCHMARKS] : [s])))];
  const bad = only.filter((b) => !(BENCHMARKS as readonly string[]).includes(b));
  if (bad.length || only.length === 0) throw new Error(`--only: unknown benchmark ${bad.join(', ') || '(none)'}; choose from ${BENCHMARKS.join(', ')}`);
  return {
    quick,
    only: only as BenchName[],
    sizeMiB: positiveInt('--size-mib', values['size-mib'] ?? env.BENCH_SIZE_MIB, quick ? 16 : 256),
    runs: positiveInt('--runs', values.runs ?? env.BENCH_RUNS, quick ? 1 : 3),
    tunnels: positiveInt('--tunnels', values.tunnels ?? env.BENCH_TUNNELS, quick ? 200 : 2000),
    concurrency: positiveInt('--concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 50),
    enableRuns: positiveInt('--enable-runs', values['enable-runs'] ?? env.BENCH_ENABLE_RUNS, quick ? 5 : 30),
    ticketRate: positiveInt('--ticket-rate', values['ticket-rate'] ?? env.BENCH_TICKET_RATE, quick ? 50 : 100),
    ticketSeconds: positiveInt('--ticket-seconds', values['ticket-seconds'] ?? env.BENCH_TICKET_SECONDS, quick ? 10 : 30),
    floodTickets: positiveInt('--flood-tickets', values['flood-tickets'] ?? env.BENCH_FLOOD_TICKETS, quick ? 500 : 3000),
    pipelineSplit: values['pipeline-split'] ?? false,
    expirySessions: positiveInt('--expiry-sessions', values['expiry-sessions'] ?? env.BENCH_EXPIRY_SESSIONS, quick ? 200 : 1000),
    expirySpreadS: positiveInt('--expiry-spread-s', values['expiry-spread-s'] ?? env.BENCH_EXPIRY_SPREAD_S, quick ? 20 : 60),
    teardowns: positiveInt('--teardowns', values.teardowns ?? env.BENCH_TEARDOWNS, quick ? 20 : 200),
    monitorSessions: positiveInt('--monitor-sessions', values['monitor-sessions'] ?? env.BENCH_MONITOR_SESSIONS, quick ? 2000 : 10000),
    consoleSessions: positiveInt('--console-sessions', values['console-sessions'] ?? env.BENCH_CONSOLE_SESSIONS, quick ? 2000 : 10000),
    sseClients: positiveInt('--sse-clients', values['sse-clients'] ?? env.BENCH_SSE_CLIENTS, 100),
    sseRate: positiveInt('--sse-rate', values['sse-rate'] ?? env.BENCH_SSE_RATE, 500),
    sseSeconds: positiveInt('--sse-seconds', values['sse-seconds'] ?? env.BENCH_SSE_SECONDS, quick ? 3 : 10),
    serviceFleet: positiveInt('--service-fleet', values['service-fleet'] ?? env.BENCH_SERVICE_FLEET, quick ? 10 : 50),
    fleetTunnels: positiveInt('--fleet-tunnels', values['fleet-tunnels'] ?? env.BENCH_FLEET_TUNNELS, quick ? 600 : 10000),
    drainTunnels: nonNegativeInt('--drain-tunnels', values['drain-tunnels'] ?? env.BENCH_DRAIN_TUNNELS, quick ? 300 : 5000),
    agentProcesses: positiveInt('--agent-processes', values['agent-processes'] ?? env.BENCH_AGENT_PROCESSES, 4),
    coresStreams: positiveIntList('--cores-streams', values['cores-streams'] ?? env.BENCH_CORES_STREAMS, [2, 4]),
    coresStreamMiB: positiveInt('--cores-stream-mib', values['cores-stream-mib'] ?? env.BENCH_CORES_STREAM_MIB, quick ? 16 : 128),
    out: values.out ?? defaultOut,
  };
}
