// How a fleet of simulated appliances is set up over child processes: each child works through its
// share with a fixed number in flight and reports its set-up figures; the parent merges them and,
// at the end, asks every child to close (killing one that does not exit).
import type { ChildProcess } from 'node:child_process';

/** What a child reports once each appliance of its share is up or has failed. */
export interface SetupFigures {
  ok: number;
  failed: number;
  errors: string[];
  /** Epoch ms: first set-up started, last one finished. */
  startedAt: number;
  finishedAt: number;
  /** Per appliance that came up: start → up, ms. */
  setupMs: number[];
}

/** Runs `fn` over `items`, at most `concurrency` (at least one) at a time, in order of start. */
export async function forEachPooled<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const item = items[next++];
      if (item === undefined) return;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** The fleet's figures from its children's; the time span covers the children that had work. */
export function mergeSetups(all: readonly SetupFigures[]): SetupFigures {
  const withWork = all.filter((r) => r.ok + r.failed > 0);
  return {
    ok: all.reduce((s, r) => s + r.ok, 0),
    failed: all.reduce((s, r) => s + r.failed, 0),
    errors: all.flatMap((r) => r.errors),
    startedAt: Math.min(...withWork.map((r) => r.startedAt)),
    finishedAt: Math.max(...withWork.map((r) => r.finishedAt)),
    setupMs: all.flatMap((r) => r.setupMs),
  };
}

/** Sends each live child `{ type: 'close' }` and waits for its exit, SIGKILL after `killAfterMs`. */
export async function closeChildren(children: readonly ChildProcess[], killAfterMs: number): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      const timer = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
      c.send({ type: 'close' });
      await exited;
      clearTimeout(timer);
    }),
  );
}
