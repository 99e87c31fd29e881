// The resident service's tether: one at a time, run in this process (tether-runner.ts) instead of a
// spawned daemon, with an explicit phase (service-phase.ts). Enable, disable, reset and status for
// the control socket and the page; resumes a recorded tether at start (after a crash too, or taken
// over from a daemon started before the service). Refusals change nothing and leave it serving.
import { AppError, describeError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/duration.js';
import { supportsOneClick } from '../../shared/protocol.js';
import { removeIfExists } from '../agent-home.js';
import type { AgentState } from '../agent-state.js';
import { SUPPORT_USER } from '../accounts/account-provider.js';
import { HANDOVER_SIGNAL } from '../daemon/daemon.js';
import { cancelWithoutDaemon, readStateOrDiscard, removeLeftovers } from '../daemon/offline-disable.js';
import { waitForExit } from '../daemon/spawn-daemon.js';
import { teardownTether } from '../daemon/teardown.js';
import { TetherRunner, type RunnerStopped } from '../daemon/tether-runner.js';
import { tailLines } from '../log-tail.js';
import { TETHER_LINE, UNCLEAN_SHUTDOWN_LINE } from '../log-line.js';
import type { EnableOutput } from '../prepare-tether.js';
import { buildStatus, type ServiceInfo, type StatusOptions, type StatusReport } from '../status-report.js';
import { daemonStatus, isDaemonAlive, isTetherLive, readTetherState, type TetherState } from '../tether-state.js';
import { WORDS } from './enable-wording.js';
import { ServicePhaseMachine, tetherStatusOf, type TetherStatus } from './service-phase.js';
import { RunnerEventHub } from './runner-events.js';
import { acceptAndConnect } from './service-enable.js';
import type { EnableRequest, EnableResult, RunnerEvent, TetherServiceDeps } from './service-types.js';

const HANDOVER_WAIT_MS = 10_000;

export class TetherService {
  readonly deps: TetherServiceDeps;
  readonly #phase: ServicePhaseMachine;
  readonly #events: RunnerEventHub;
  #runner: TetherRunner | undefined;
  #agentState: AgentState | undefined;
  #everConnected = false;
  #connections = 0;
  #status: TetherStatus = 'disabled';
  #since: number;
  #channels: Record<string, number> = {};
  #lastEnable: EnableResult['timings'] | null = null;
  /** Set by a disable that arrives while enabling: the enable stops before (or right after) it connects. */
  #abortEnable = false;
  #enabling: Promise<unknown> | undefined;
  /** The current runner's first dial and first `connected` (clock ms), for the enable timings. */
  #dialWindow: { start: number; kex: number; end: number } | undefined;
  #connectedStateAt: number | undefined;
  #disabling: Promise<void> | undefined;

  constructor(deps: TetherServiceDeps) {
    this.deps = deps;
    this.#since = deps.clock.now();
    this.#events = new RunnerEventHub(deps.clock, deps.log);
    this.#phase = new ServicePhaseMachine(() => this.#refreshStatus());
  }

  get phase() {
    return this.#phase.phase;
  }

  /** Resumes the recorded tether, if any: after a crash (stale pid file) or from a daemon that hands it over. */
  async start(out: (line: string) => void): Promise<void> {
    const { paths, log, pid } = this.deps;
    const d = daemonStatus(paths);
    if (d.running && d.pid !== undefined && d.pid !== pid) {
      log(`a tether daemon (pid ${d.pid}) holds the tether: asking it to hand over`);
      process.kill(d.pid, HANDOVER_SIGNAL);
      const foreign = d.pid;
      if (!(await waitForExit(() => isDaemonAlive(foreign), HANDOVER_WAIT_MS))) throw new AppError('agent_busy', `the tether daemon (pid ${foreign}) did not hand over within ${formatDuration(HANDOVER_WAIT_MS)}`);
    } else if (d.stale) {
      out(UNCLEAN_SHUTDOWN_LINE);
      log(UNCLEAN_SHUTDOWN_LINE);
    }
    const state = readStateOrDiscard(paths);
    this.deps.warm.warmUp(state?.relay.host);
    if (!isTetherLive(paths, state)) {
      if (d.stale) removeIfExists(paths.pidFile); // nothing to resume: only the crashed holder's pid was left
      return;
    }
    if (state.state === 'draining') return this.#finishDisable(state, d.pid);
    this.#everConnected = state.connectedAt !== null;
    this.#connections = state.connections;
    this.#phase.to('running');
    this.#startRunner();
    log(`resuming the tether of session ${state.sessionId} from its saved state`);
  }

  /**
   * The last holder stopped (killed) while a disable was under way: the customer asked for the
   * tether to end, so it is ended, never reconnected. Best effort towards the relay; a teardown
   * failure is logged and recorded in state.json, and the service serves on.
   */
  async #finishDisable(state: TetherState, stalePid: number | undefined): Promise<void> {
    const { paths, warm, log, clock } = this.deps;
    log(`finishing the disable of session ${state.sessionId} that was under way when the last holder stopped`);
    try {
      // Inside: a damaged config.json must not make the start fail (and the unit restart forever).
      await cancelWithoutDaemon(paths, warm.config(), state, log).catch((err: unknown) => log(`the relay was not told: ${describeError(err)}`));
      await teardownTether({ paths, accounts: warm.accounts(), reason: null, markUsed: true, now: new Date(clock.now()), log, ...(stalePid !== undefined ? { pid: stalePid } : {}) });
      log('Tether disabled.');
    } catch (err) {
      log(describeError(err));
    }
  }

  /** Leaves a running tether to be resumed by the next start (the relay sees the connection drop). */
  async close(): Promise<void> {
    if (this.#phase.is('stopped')) return;
    const runner = this.#runner;
    this.#phase.to('stopped');
    if (runner) await runner.close('service stopping');
  }

  async status(opts: StatusOptions): Promise<StatusReport & { service: ServiceInfo }> {
    const { warm, paths } = this.deps;
    const config = warm.config();
    const report = await buildStatus(paths, config, warm.identity(), opts);
    const state = readTetherState(paths);
    return {
      ...report,
      service: {
        pid: this.deps.pid,
        phase: this.#phase.phase,
        tether: this.#status,
        since: new Date(this.#since).toISOString(),
        ticket: this.#status === 'disabled' ? null : (state?.ticket ?? null),
        channels: { ...this.#channels },
        page: this.deps.pageUrl?.() ?? null,
        oneClick: supportsOneClick(config.product, config.version),
        lastEnable: this.#lastEnable,
      },
    };
  }

  /** The last `lines` lines of ktether.log. */
  logTail(lines: number): string[] {
    return tailLines(this.deps.paths.logFile, lines);
  }

  async enable(req: EnableRequest, out: EnableOutput): Promise<EnableResult> {
    const words = WORDS[req.wording];
    if (!this.#phase.is('idle')) throw new AppError('agent_busy', words.busy(this.deps.pid));
    const d = daemonStatus(this.deps.paths);
    if (d.running && d.pid !== this.deps.pid) throw new AppError('agent_busy', words.busy(d.pid ?? 0));
    // Raw lines (the unclean-shutdown warning) belong in the log too; the runner logs its own start.
    const logged: EnableOutput = {
      say: (m) => out.say(m),
      raw: (line) => {
        this.deps.log(line);
        out.raw(line);
      },
    };
    this.#abortEnable = false;
    const run = acceptAndConnect(this, req, logged, {
      begin: () => this.#phase.to('enabling'),
      aborted: () => this.#abortEnable,
      startRunner: (loginGate) => this.#startRunner(loginGate),
      closeRunner: () => this.#runner?.close('the support account could not be made: stopping before the login') ?? Promise.resolve(),
      drainRunner: async () => {
        const runner = this.#runner;
        if (!runner) return;
        await runner.drain();
        await runner.done;
      },
      dialWindow: () => this.#dialWindow,
      connectedAt: () => this.#connectedStateAt,
    });
    this.#enabling = run;
    try {
      const result = await run;
      // It came up, and ended again before this line ran (the relay closed it at once).
      if (!this.#runner) throw new AppError('relay_refused', 'the tether ended right after it came up; see the log');
      this.#lastEnable = result.timings;
      this.#phase.to('running');
      out.raw(TETHER_LINE);
      return result;
    } catch (err) {
      if (this.#phase.is('enabling')) this.#phase.to('idle');
      this.deps.log(`enable refused: ${describeError(err)}`);
      throw err;
    } finally {
      this.#enabling = undefined;
      this.deps.warm.passwords.refillLater();
    }
  }

  /**
   * `Tether disabled.` (true) or `No tether is enabled: nothing to disable.` (false), after
   * `Stopping.`; throws account_failed when the tether ended but kace_support could not be removed.
   */
  async disable(out: EnableOutput): Promise<boolean> {
    out.say('Stopping.');
    if (this.#phase.is('enabling')) {
      this.#abortEnable = true;
      void this.#runner?.drain();
      await this.#enabling?.catch(() => undefined);
      // Whatever the stopped enable made goes too; an account that cannot be removed is reported.
      if (this.#phase.is('idle')) await this.deps.warm.accounts().remove(SUPPORT_USER);
      out.say('Tether disabled.');
      return true;
    }
    if (this.#phase.is('running', 'disabling')) {
      await this.#drainRunning();
      out.say('Tether disabled.');
      return true;
    }
    // Nothing runs here; whatever a crashed holder left is cleaned up the CLI's way.
    const { paths, warm } = this.deps;
    const accounts = warm.accounts();
    const d = daemonStatus(paths);
    if (d.stale) out.raw(UNCLEAN_SHUTDOWN_LINE);
    const state = readStateOrDiscard(paths);
    if (isTetherLive(paths, state)) {
      await cancelWithoutDaemon(paths, warm.config(), state, (m) => out.say(m));
      await teardownTether({ paths, accounts, reason: null, markUsed: true, now: new Date(this.deps.clock.now()), ...(d.pid !== undefined ? { pid: d.pid } : {}) });
      out.say('Tether disabled.');
      return true;
    }
    await removeLeftovers(paths, accounts, d.stale);
    out.say('No tether is enabled: nothing to disable.');
    return false;
  }

  async reset(timeoutMs: number, out: EnableOutput): Promise<void> {
    const runner = this.#runner;
    if (!this.#phase.is('running') || !runner) throw new AppError('agent_not_running', 'no tether is enabled: run ktether enable first');
    out.say('Starting.');
    const before = this.#connections;
    const next = this.nextEvent((e) => e.kind === 'stopped' || (e.kind === 'connected' && this.#connections > before), timeoutMs);
    runner.reset();
    out.say('Starting ssh.');
    const e = await next;
    if (e === undefined) {
      const last = readTetherState(this.deps.paths)?.lastError;
      throw new AppError('relay_unreachable', `not reconnected within ${formatDuration(timeoutMs)}${last ? `: ${last}` : ''}; the service keeps retrying (ktether disable stops it)`);
    }
    if (e.kind === 'stopped') throw new AppError('relay_refused', e.info.reason || 'the tether was closed during the reset');
    out.raw(TETHER_LINE);
  }

  /** The next runner event that `match`es, or undefined after `timeoutMs`. */
  nextEvent(match: (e: RunnerEvent) => boolean, timeoutMs: number): Promise<RunnerEvent | undefined> {
    return this.#events.next(match, timeoutMs);
  }

  #drainRunning(): Promise<void> {
    if (this.#disabling) return this.#disabling;
    const runner = this.#runner;
    if (this.#phase.is('running')) this.#phase.to('disabling');
    this.#disabling = (async () => {
      try {
        if (runner) {
          await runner.drain();
          if ((await runner.done) !== 0 && runner.teardownError !== undefined) throw runner.teardownError;
        }
      } finally {
        this.#disabling = undefined;
        if (this.#phase.is('disabling')) this.#phase.to('idle');
      }
    })();
    return this.#disabling;
  }

  /** `loginGate`: the first dial connects at once but logs in only once it resolves (see service-enable). */
  #startRunner(loginGate?: Promise<void>): TetherRunner {
    const { paths, warm, log, pid, clock } = this.deps;
    this.#dialWindow = undefined;
    this.#connectedStateAt = undefined;
    let gate = loginGate;
    const runner: TetherRunner = new TetherRunner({
      paths,
      config: warm.config(),
      accounts: warm.accounts(),
      log,
      pid,
      dial: async (o) => {
        const start = clock.now();
        let kex: number | undefined;
        const first = gate;
        gate = undefined; // reconnects never wait
        const client = await warm.dial({ ...o, onHandshake: () => (kex = clock.now()), ...(first ? { loginGate: first } : {}) });
        if (this.#runner === runner) this.#dialWindow ??= { start, kex: kex ?? start, end: clock.now() };
        return client;
      },
      events: {
        state: (to) => {
          if (this.#runner !== runner) return;
          this.#agentState = to;
          if (to === 'connected') {
            this.#everConnected = true;
            this.#connectedStateAt ??= clock.now();
          }
          this.#refreshStatus();
        },
        connected: () => {
          if (this.#runner !== runner) return;
          this.#connections += 1;
          this.#events.emit({ kind: 'connected' });
        },
        retrying: ({ error }) => this.#runner === runner && this.#events.emit({ kind: 'retrying', error }),
        channels: (open) => {
          if (this.#runner === runner) this.#channels = Object.fromEntries([...open].map(([port, n]) => [String(port), n]));
        },
        stopped: (info) => this.#onStopped(runner, info),
      },
    });
    this.#runner = runner;
    this.#agentState = runner.state;
    this.#everConnected = runner.recorded.connectedAt !== null;
    this.#connections = runner.recorded.connections;
    runner.start();
    return runner;
  }

  #onStopped(runner: TetherRunner, info: RunnerStopped): void {
    if (this.#runner !== runner) return;
    this.#runner = undefined;
    this.#agentState = undefined;
    this.#channels = {};
    this.#events.emit({ kind: 'stopped', info });
    // An enable settles its own phase; a drain in progress settles in #drainRunning.
    if (this.#phase.is('running')) this.#phase.to('idle');
    this.#refreshStatus();
    if (!info.byCustomer && !info.resumable) this.deps.log(`service: the tether ended: ${info.reason}`);
  }

  #refreshStatus(): void {
    const next = tetherStatusOf(this.#phase.phase, this.#agentState, this.#everConnected);
    if (next !== this.#status) {
      this.#status = next;
      this.#since = this.deps.clock.now();
    }
  }
}
