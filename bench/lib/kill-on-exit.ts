// Long-lived helper processes (redis-server, sshd, the relay child) are killed when the benchmark
// exits, however it exits, so that an interrupted run leaves nothing listening.
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (installed) return;
  installed = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  // Signals end the process without 'exit' unless handled; exit explicitly so the hook runs.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}
