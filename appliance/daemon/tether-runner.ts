// Runs the tether recorded in state.json: one TunnelAgent, the state file kept current, the pid
// file, the password escrow, engineer channels counted and logged, and the local teardown when the
// tether ends. Hosted by the background daemon (daemon.ts) or by the resident service; it owns no
// signals and no IPC: its host decides what reset, disable and close mean and reports outcomes.
import { existsSync, readFileSync } from 'node:fs';
import { AppError, describeError } from '../../shared/errors.js';
import { ESCROW_REQUEST } from '../../shared/key/password-escrow.js';
import { forwardTarget, type AgentConfig } from '../agent-config.js';
import { removeIfExists, type AgentPaths } from '../agent-home.js';
import type { AgentLog } from '../agent-log.js';
import type { AgentState } from '../agent-state.js';
import type { AccountProvider } from '../accounts/account-provider.js';
import { readEscrow, removeEscrow } from '../escrow-file.js';
import { daemonStatus, isTetherLive, readTetherState, removePidFile, updateTetherState, writePid, type TetherState } from '../tether-state.js';
import type { ForwardSpec } from '../tunnel/forwards.js';
import type { DialOptions } from '../tunnel/relay-dial.js';
import { TunnelAgent, type TunnelStopped } from '../tunnel/tunnel-agent.js';
import { EscrowDelivery } from './escrow-delivery.js';
import { teardownTether } from './teardown.js';

export interface RunnerConnected {
  sessionId: string;
  relay: string;
  ports: number[];
}

export interface RunnerStopped extends TunnelStopped {
  /** Exit code a host process should end with: 0 after a customer disable or a hand-over. */
  exitCode: number;
  /** Ended by close(): nothing was torn down, the tether resumes from state.json later. */
  resumable: boolean;
}

export interface RunnerEvents {
  connected: (info: RunnerConnected) => void;
  retrying: (info: { error: string; delayMs: number }) => void;
  /** Awaited before `done` resolves (the daemon reports over IPC before it exits). */
  stopped: (info: RunnerStopped) => void | Promise<void>;
  /** Agent state changes (connected ⇄ connecting is "lost" once it has been up). */
  state: (to: AgentState, from: AgentState) => void;
  /** Engineer channels open right now, by port, after each open and close. */
  channels: (open: ReadonlyMap<number, number>) => void;
}

export interface TetherRunnerOptions {
  paths: AgentPaths;
  config: AgentConfig;
  accounts: AccountProvider;
  log: AgentLog;
  /** The process that holds the tether (written to ktether.pid). */
  pid: number;
  events?: Partial<RunnerEvents>;
  /** Replaces the relay dial (the service resolves the relay's address ahead of time). */
  dial?: TunnelAgentDial;
}

export type TunnelAgentDial = NonNullable<ConstructorParameters<typeof TunnelAgent>[0]['dial']>;
export type { DialOptions };

export class TetherRunner {
  readonly recorded: TetherState;
  readonly done: Promise<number>;
  readonly #opts: TetherRunnerOptions;
  readonly #agent: TunnelAgent;
  readonly #escrow: EscrowDelivery | undefined;
  readonly #openChannels = new Map<number, number>();
  #everConnected: boolean;
  #closing = false;
  #teardownError: unknown;
  #finish!: (code: number) => void;

  /** Throws agent_not_running when no live tether is recorded, agent_busy when another process holds it. */
  constructor(opts: TetherRunnerOptions) {
    this.#opts = opts;
    const { paths, config, log } = opts;
    const recorded = readTetherState(paths);
    if (!isTetherLive(paths, recorded)) throw new AppError('agent_not_running', 'no tether is enabled: nothing for the daemon to run');
    // Killed during a disable: the customer asked for it to end, so it never connects again.
    if (recorded.state === 'draining') throw new AppError('agent_not_running', 'the tether was being disabled when its process stopped: run ktether disable to finish');
    const other = daemonStatus(paths);
    if (other.running && other.pid !== opts.pid) throw new AppError('agent_busy', `a tether daemon is already running (pid ${other.pid})`);
    this.recorded = recorded;
    this.done = new Promise<number>((resolve) => (this.#finish = resolve));
    this.#everConnected = recorded.connectedAt !== null;
    writePid(paths, opts.pid);

    const forwards: ForwardSpec[] = recorded.ports.flatMap((port) => {
      const target = forwardTarget(config, port);
      return target ? [{ port, target }] : [];
    });
    const baseConnections = recorded.connections;
    updateTetherState(paths, { state: 'initial', pid: opts.pid, lastError: null });
    log(`Starting ssh. session ${recorded.sessionId}, relay ${recorded.relay.host}:${recorded.relay.port}, pid ${opts.pid}`);

    // An escrow key's password, sealed to the vendor: sent on each connection until acknowledged once.
    const box = recorded.escrow === 'pending' ? readEscrow(paths) : undefined;
    if (recorded.escrow === 'pending' && !box) log('password escrow pending, but its sealed box is missing: nothing to send');
    this.#escrow = box
      ? new EscrowDelivery({
          box,
          request: (data) => this.#agent.request(ESCROW_REQUEST, data),
          acknowledged: () => {
            this.#record({ escrow: 'acknowledged' });
            removeEscrow(paths);
          },
          log,
        })
      : undefined;

    const events = opts.events ?? {};
    this.#agent = new TunnelAgent({
      relay: recorded.relay,
      relays: recorded.relays,
      username: config.serial,
      privateKey: readFileSync(paths.tunnelKey, 'utf8'),
      activationKey: existsSync(paths.activationKey) ? readFileSync(paths.activationKey, 'utf8') : undefined,
      forwards,
      expiresAt: Date.parse(recorded.expiresAt),
      ...(opts.dial ? { dial: opts.dial } : {}),
      onChannel: (port, change) => this.#onChannel(port, change),
      events: {
        log,
        state: (to, from) => {
          if (to !== 'closed') this.#record({ state: to });
          if (from === 'connected') this.#escrow?.onDisconnected();
          events.state?.(to, from);
        },
        connected: ({ forwarded, connections, relay }) => {
          this.#everConnected = true;
          removeIfExists(paths.activationKey); // spent: the relay accepts only tunnel_key from now on
          this.#record({ connectedAt: new Date().toISOString(), connections: baseConnections + connections, lastError: null, via: relay });
          // The escrow's first attempt (one round trip, at most one request timeout) comes before the
          // report, so a password is in custody when enable returns.
          void (this.#escrow?.onConnected() ?? Promise.resolve()).then(() =>
            events.connected?.({ sessionId: recorded.sessionId, relay: `${relay.host}:${relay.port}`, ports: forwarded }),
          );
        },
        retrying: ({ error, delayMs }) => {
          this.#record({ lastError: error });
          events.retrying?.({ error, delayMs });
        },
        stopped: (info) => void this.#onStopped(info),
        // An operator extended the session: status and a later restart use the relay's expiry.
        expiry: ({ expiresAt }) => this.#record({ expiresAt: new Date(expiresAt).toISOString() }),
      },
    });
  }

  get state(): AgentState {
    return this.#agent.state;
  }

  /** Engineer channels open right now, by port. */
  get openChannels(): ReadonlyMap<number, number> {
    return this.#openChannels;
  }

  /** Why the local teardown failed (kace_support stayed), once `done` has resolved with 1. */
  get teardownError(): unknown {
    return this.#teardownError;
  }

  start(): void {
    this.#agent.start();
  }

  /** Drop the connection and reconnect now with the same key. */
  reset(): void {
    this.#opts.log('reset requested');
    this.#agent.reset();
  }

  /** Customer disable: the relay closes the session, then everything here is torn down. */
  drain(): Promise<void> {
    this.#opts.log('disable requested');
    return this.#agent.drain();
  }

  /**
   * Stops holding the tether without telling the relay or tearing anything down (service stop, or
   * a daemon handing over to the service): the session goes LOST and resumes from state.json.
   */
  close(why: string): Promise<void> {
    if (this.#agent.state === 'closed' || this.#agent.state === 'draining') return this.done.then(() => undefined);
    this.#closing = true;
    this.#opts.log(why);
    return this.#agent.close();
  }

  #onChannel(port: number, change: 'opened' | 'closed'): void {
    const n = (this.#openChannels.get(port) ?? 0) + (change === 'opened' ? 1 : -1);
    if (n > 0) this.#openChannels.set(port, n);
    else this.#openChannels.delete(port);
    this.#opts.log(`engineer channel to port ${port} ${change}`);
    this.#opts.events?.channels?.(this.#openChannels);
  }

  /** The state file is for status and reset; failing to write it must not take the tunnel down. */
  #record(change: Partial<TetherState>): void {
    try {
      updateTetherState(this.#opts.paths, change);
    } catch (err) {
      this.#opts.log(`cannot record the state: ${describeError(err)}`);
    }
  }

  async #onStopped(info: TunnelStopped): Promise<void> {
    const { paths, accounts, log, pid } = this.#opts;
    this.#escrow?.onDisconnected();
    if (this.#openChannels.size > 0) {
      this.#openChannels.clear();
      this.#opts.events?.channels?.(this.#openChannels);
    }
    if (this.#closing) {
      // Left for whoever resumes it: recorded as live, credential and account kept.
      this.#record({ state: 'connecting', pid: null });
      removePidFile(paths, pid);
      log('Tether left running on the relay side; it resumes when the service starts.');
      await this.#opts.events?.stopped?.({ ...info, exitCode: 0, resumable: true });
      this.#finish(0);
      return;
    }
    const markUsed = this.#everConnected || info.credentialRejected || info.code === 'key_expired';
    let code = info.byCustomer ? 0 : 1;
    try {
      await teardownTether({ paths, accounts, reason: info.byCustomer ? null : info.reason, markUsed, pid, log });
    } catch (err) {
      log(describeError(err));
      this.#teardownError = err;
      code = 1;
    }
    log(info.byCustomer ? 'Tether disabled.' : `Tether stopped: ${info.reason}`);
    await this.#opts.events?.stopped?.({ ...info, exitCode: code, resumable: false });
    this.#finish(code);
  }
}
