// The V8 flags a relay process runs with. `--single-threaded-gc`: V8's concurrent marking and
// array-buffer sweeping run on helper threads that, on a host whose cores are busy (the relay's own
// crypto, the kernel's loopback and network work), cost more CPU than they save: every socket
// read is a new ArrayBuffer, and V8 answers their churn with a mark-compact every ~70 ms. Measured
// with `node dist/bench/run.js --only throughput` (README "Benchmarks"): 2.0–2.9 → 1.1–1.6 CPU-s per
// GiB relayed, set-ups per CPU second unchanged. Not for the API and workers: the ticket pipeline
// measured 5–15 % fewer tickets/s with it. V8 takes these flags only on the command line
// (`v8.setFlagsFromString` after start aborts the process in its next GC).
export const RELAY_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** V8 spells a flag with dashes or underscores alike. */
const spelled = (flag: string) => flag.replace(/_/g, '-');

/** Whether `execArgv` sets `flag` (`--single-threaded-gc`) or turns it off (`--no-single-threaded-gc`). */
function mentions(execArgv: readonly string[], flag: string): 'on' | 'off' | undefined {
  const given = execArgv.map(spelled);
  const off = `--no-${flag.slice(2)}`;
  // The last of them wins, as in V8.
  for (let i = given.length - 1; i >= 0; i--) {
    if (given[i] === flag) return 'on';
    if (given[i] === off) return 'off';
  }
  return undefined;
}

/**
 * `execArgv` with every relay flag it does not mention added (for the relay processes a primary
 * forks); a flag the operator turned off (`--no-single-threaded-gc`) stays off.
 */
export function withRelayNodeFlags(execArgv: readonly string[]): string[] {
  return [...execArgv, ...RELAY_NODE_FLAGS.filter((f) => mentions(execArgv, f) === undefined)];
}

/** The relay flags this process does not run with (none: empty). */
export function missingRelayNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return RELAY_NODE_FLAGS.filter((f) => mentions(execArgv, f) !== 'on');
}
