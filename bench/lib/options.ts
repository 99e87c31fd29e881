// Benchmark options from the command line and BENCH_* variables (flags win): sizes, run counts,
// which benchmarks to run. `--quick` picks small sizes for a smoke run.
import { parseArgs } from 'node:util';

export const BENCHMARKS = ['throughput', 'idle-scale', 'enable-latency'] as const;
export type BenchName = (typeof BENCHMARKS)[number];

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
  /** Where the JSON results go. */
  out: string;
}

const USAGE = `usage: node dist/bench/run.js [--quick] [--only ${BENCHMARKS.join(',')}]
  [--size-mib N] [--runs N] [--tunnels N] [--concurrency N] [--enable-runs N] [--out FILE]
  env: BENCH_SIZE_MIB, BENCH_RUNS, BENCH_TUNNELS, BENCH_CONCURRENCY, BENCH_ENABLE_RUNS`;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got "${text}"\n${USAGE}`);
  return n;
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
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const only = (values.only ?? BENCHMARKS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
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
    out: values.out ?? defaultOut,
  };
}
