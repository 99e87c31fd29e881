// The V8 flags a relay process runs with. `--single-threaded-gc`: V8's concurrent marking and
// array-buffer sweeping run on helper threads that, on a host whose cores are busy (the relay's own
// crypto, the kernel's loopback and network work), cost more CPU than they save: every socket
// read is a new ArrayBuffer, and V8 answers their churn with a mark-compact every ~70 ms. Measured
// with `node dist/bench/run.js --only throughput` (README "Benchmarks"): 2.0–2.9 → 1.1–1.6 CPU-s per
// GiB relayed, set-ups per CPU second unchanged. Not for the API and workers: the ticket pipeline
// measured 5–15 % fewer tickets/s with it. V8 takes these flags only on the command line
// (`v8.setFlagsFromString` after start aborts the process in its next GC).
export const RELAY_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** `execArgv` with every relay flag it lacks added (for the relay processes a primary forks). */
export function withRelayNodeFlags(execArgv: readonly string[]): string[] {
  return [...execArgv, ...RELAY_NODE_FLAGS.filter((f) => !execArgv.includes(f))];
}

/** The relay flags this process was started without (none: empty). */
export function missingRelayNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return RELAY_NODE_FLAGS.filter((f) => !execArgv.includes(f));
}
