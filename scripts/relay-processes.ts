// A relay per core (TETHER_RELAY_PROCESSES=N): the serve process forks N relay processes with
// Node's cluster module. They share the relay's SSH port (the primary accepts and hands each
// connection to the next relay in turn); each is a member of the fleet with its own id and its own
// peer listener, so an engineer who lands on one relay reaches a tunnel another holds over the
// peer link, as between machines. The primary restarts a relay that dies and, on SIGINT/SIGTERM,
// waits for every relay to drain and exit before it closes its own roles.
import cluster, { type Worker } from 'node:cluster';
import { withRelayNodeFlags } from '../relay/node-flags.js';

export interface RelayProcesses {
  /** Resolves when every relay process has exited (after stop()). */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** A relay that dies on its own is restarted after this long (not in a tight loop). */
const RESTART_DELAY_MS = 1_000;

/** Forks `count` relay processes running this same entry point with `--roles relay`; resolves when all are ready. */
export async function startRelayProcesses(count: number, say: (line: string) => void): Promise<RelayProcesses> {
  // The children run the same script with the relay role alone (the primary keeps the others), and
  // with the relay's V8 flags (relay/node-flags.ts) whatever node flags the primary was given.
  cluster.setupPrimary({ args: ['--roles', 'relay'], execArgv: withRelayNodeFlags(process.execArgv), silent: false });
  let stopping = false;
  const live = new Set<Worker>();

  const fork = (slot: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ TETHER_RELAY_PROCESS: String(slot) });
      live.add(worker);
      let ready = false;
      worker.on('message', (m: unknown) => {
        if (m === 'relay-ready' && !ready) {
          ready = true;
          resolve();
        }
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        if (!ready) return reject(new Error(`relay process ${slot} exited before it was ready (${signal ?? `code ${code}`})`));
        if (stopping) return;
        say(`relay process ${slot} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}): restarting it in ${RESTART_DELAY_MS / 1000} s`);
        setTimeout(() => {
          if (!stopping) fork(slot).catch((err: unknown) => say(`relay process ${slot}: ${(err as Error).message}`));
        }, RESTART_DELAY_MS).unref();
      });
    });

  await Promise.all(Array.from({ length: count }, (_, i) => fork(i + 1)));
  return {
    async stop(signal) {
      stopping = true;
      const exited = [...live].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
      // A terminal's Ctrl-C reaches the whole process group already; a SIGTERM to the primary alone does not.
      for (const w of live) w.process.kill(signal);
      await Promise.all(exited);
    },
  };
}

/** In a relay process forked by startRelayProcesses: tells the primary the relay listens. */
export function reportRelayReady(): void {
  if (cluster.isWorker) process.send?.('relay-ready');
}

export const isRelayProcess = (): boolean => cluster.isWorker;
