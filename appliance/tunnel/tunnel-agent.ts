// The tunnel agent: keeps one live session's connection to the relay up. Explicit state machine
// (initial → connecting → connected → draining → closed), jittered backoff between attempts,
// keepalives, a pinned relay host key, drain (cancel forwards, then end) separate from a hard close.
// It owns no files: the daemon reacts to its events (state file, cleanup, IPC).
import type { Client as SshClient } from 'ssh2';
import { AppError, describeError, type ErrorCode } from '../../shared/errors.js';
import { AgentStateMachine, type AgentState } from '../agent-state.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff.js';
import { setLongTimeout, systemClock, type Clock } from '../clock.js';
import { closedPromise, endAndWait } from './client-close.js';
import { cancelForwards, requestForwards, serveForwards, type ChannelListener, type ForwardSpec } from './forwards.js';
import { EXPIRY_NOTICE, decodeExpiryNotice } from '../../shared/relay-protocol.js';
import { listenForNotices, sendGlobalRequest, type GlobalReply } from './global-request.js';
import { dialRelay, isCredentialRefusal, isPermanentRefusal, type DialOptions, type RelayEndpoint } from './relay-dial.js';

export interface TunnelStopped {
  reason: string;
  /** Why it stopped, as a code; null for a customer disable (not a failure). */
  code: ErrorCode | null;
  /** The relay rejected the credential: the session is over and the key consumed. */
  credentialRejected: boolean;
  /** Ended by disable (forwards cancelled, the relay records customer_disabled). */
  byCustomer: boolean;
}

export interface TunnelEvents {
  state: (to: AgentState, from: AgentState) => void;
  /** `relay`: the relay of the key's fleet this connection reached. */
  connected: (info: { forwarded: number[]; connections: number; relay: RelayEndpoint }) => void;
  retrying: (info: { error: string; delayMs: number; attempt: number }) => void;
  stopped: (info: TunnelStopped) => void;
  /** The relay told a new expiry (an operator extended the session); the agent's timer follows it. */
  expiry: (info: { expiresAt: number }) => void;
  /** Secret-free progress lines for the agent log. */
  log: (message: string) => void;
}

export interface TunnelAgentOptions {
  relay: RelayEndpoint;
  /** The key's fleet, in order (issue 10): a failed attempt moves on to the next relay; one that works is kept. */
  relays?: readonly RelayEndpoint[] | undefined;
  username: string;
  /** The appliance-held key (tunnel_key). */
  privateKey: string;
  /** The key's tunnel credential, while it has not been used: dropped after the first connection. */
  activationKey?: string | undefined;
  forwards: readonly ForwardSpec[];
  /** Epoch ms after which the key is dead; the agent stops by itself then (the relay may move it). */
  expiresAt: number;
  keepaliveMs?: number;
  readyTimeoutMs?: number;
  requestTimeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  clock?: Clock;
  dial?: (opts: DialOptions) => Promise<SshClient>;
  events?: Partial<TunnelEvents>;
  /** An engineer channel on a forwarded port opened or closed. */
  onChannel?: ChannelListener;
}

const noop = (): void => {};

/**
 * A drain's bounds: telling the relay (an in-flight dial, forwards, cancels) at most 7 s, ending
 * the connection at most 2 s more. With the local teardown that stays under the systemd unit's
 * TimeoutStopSec=15, so a service stop during a disable is not killed half-way.
 */
export const DRAIN_CANCEL_BUDGET_MS = 7_000;
export const DRAIN_END_WAIT_MS = 2_000;
/**
 * A connection must stay up this long before the backoff starts again from its first delay: a
 * relay that accepts the login and forwards and then drops at once gets ever slower retries, not
 * a login every few hundred milliseconds.
 */
export const STABLE_CONNECTION_MS = 30_000;

export class TunnelAgent {
  readonly #opts: TunnelAgentOptions;
  readonly #clock: Clock;
  readonly #events: TunnelEvents;
  readonly #machine: AgentStateMachine;
  readonly #requestTimeoutMs: number;
  #client: SshClient | undefined;
  #forwardsReady: Promise<number[]> | undefined;
  #pendingDial: Promise<SshClient> | undefined;
  #retryTimer: unknown;
  #cancelExpiry: () => void = noop;
  #expiresAt: number;
  #attempts = 0;
  /** Clock ms the current connection reached `connected`. */
  #connectedAt: number | undefined;
  /** Index into the fleet of the relay tried next (stays on one that works). */
  #endpoint = 0;
  #connections = 0;
  #activationKey: string | undefined;
  #resetPending = false;
  #draining: Promise<void> | undefined;
  /** Drain is waiting for an in-flight dial and will cancel and end what it yields. */
  #drainTakesDial = false;

  constructor(opts: TunnelAgentOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;
    const e = opts.events ?? {};
    this.#events = { state: e.state ?? noop, connected: e.connected ?? noop, retrying: e.retrying ?? noop, stopped: e.stopped ?? noop, expiry: e.expiry ?? noop, log: e.log ?? noop };
    this.#expiresAt = opts.expiresAt;
    this.#machine = new AgentStateMachine((to, from) => this.#events.state(to, from));
    this.#activationKey = opts.activationKey;
  }

  get state(): AgentState {
    return this.#machine.state;
  }

  /** Epoch ms the session expires at, as the relay last said (the key's expiry until then). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  start(): void {
    this.#machine.to('connecting');
    this.#planExpiry();
    void this.#attempt();
  }

  #planExpiry(): void {
    this.#cancelExpiry();
    const at = this.#expiresAt;
    this.#cancelExpiry = setLongTimeout(this.#clock, at, () => {
      void this.#drain({ reason: `key expired at ${new Date(at).toISOString()}`, code: 'key_expired', cancel: false, byCustomer: false });
    });
  }

  /** `expiry@tether` from the relay: the session's expiry as the relay enforces it. */
  #onNotice(data: Buffer): void {
    const at = decodeExpiryNotice(data);
    if (at === null) return this.#events.log('relay sent a malformed expiry notice; ignored');
    if (at === this.#expiresAt || this.#machine.is('draining') || this.#machine.is('closed')) return;
    this.#expiresAt = at;
    this.#planExpiry();
    this.#events.log(`relay says the session now expires at ${new Date(at).toISOString()}`);
    this.#events.expiry({ expiresAt: at });
  }

  /** Drop the connection (if any) and reconnect now with the same key. */
  reset(): void {
    if (this.#machine.is('connected') && this.#client) {
      this.#events.log('reset: dropping the connection to reconnect');
      this.#resetPending = true;
      this.#client.end();
    } else if (this.#machine.is('connecting') && this.#retryTimer !== undefined) {
      this.#events.log('reset: retrying now');
      this.#clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#attempts = 0;
      void this.#attempt();
    }
  }

  /**
   * A vendor global request on the live connection (password escrow); rejects when not connected.
   * The answer belongs to this connection only: after a reconnect the caller asks again.
   */
  request(name: string, data: Buffer): Promise<GlobalReply> {
    const client = this.#client;
    if (!client || !this.#machine.is('connected')) return Promise.reject(new Error('not connected to the relay'));
    return sendGlobalRequest(client, name, data, this.#requestTimeoutMs);
  }

  /** Customer disable: cancel every forward (the relay then closes the session), then end. */
  drain(): Promise<void> {
    return this.#drain({ reason: 'disabled by the customer', code: null, cancel: true, byCustomer: true });
  }

  /** Stop without telling the relay anything; the session stays resumable (LOST on the relay). */
  close(): Promise<void> {
    return this.#drain({ reason: 'agent closed', code: 'internal', cancel: false, byCustomer: false });
  }

  async #attempt(): Promise<void> {
    this.#retryTimer = undefined;
    if (!this.#machine.is('connecting')) return;
    const fleet = this.#opts.relays?.length ? this.#opts.relays : [this.#opts.relay];
    const relay = fleet[this.#endpoint % fleet.length]!;
    const dial = this.#opts.dial ?? dialRelay;
    this.#events.log(`connecting to relay ${relay.host}:${relay.port}`);
    const pending = dial({
      relay,
      username: this.#opts.username,
      privateKey: this.#opts.privateKey,
      activationKey: this.#activationKey,
      keepaliveMs: this.#opts.keepaliveMs ?? 15_000,
      readyTimeoutMs: this.#opts.readyTimeoutMs ?? 15_000,
    });
    this.#pendingDial = pending;
    let client: SshClient;
    try {
      client = await pending;
    } catch (err) {
      if (!this.#machine.is('connecting')) return;
      if (isPermanentRefusal(err)) return this.#refuse(err as AppError);
      this.#endpoint++;
      return this.#scheduleRetry(describeError(err));
    } finally {
      if (this.#pendingDial === pending) this.#pendingDial = undefined;
    }
    closedPromise(client);
    // Logged in: the relay has bound the appliance key, and the key's credential is spent.
    this.#activationKey = undefined;
    if (!this.#machine.is('connecting')) {
      // Disabled while dialling: #drain takes this client, unless it stopped waiting for it.
      if (!this.#drainTakesDial) client.end();
      return;
    }
    this.#client = client;
    // Before any forward is asked for: the relay tells the expiry after the first one it accepts.
    if (!listenForNotices(client, [EXPIRY_NOTICE], (_name, data) => this.#onNotice(data))) this.#events.log('this ssh2 build cannot hear relay notices: the expiry stays the key\'s');
    const stopServing = serveForwards(client, this.#opts.forwards, (m) => this.#events.log(m), this.#opts.onChannel);
    client.on('error', (err) => this.#events.log(`relay connection: ${err.message}`));
    client.once('close', () => {
      stopServing();
      this.#onDrop(client);
    });
    const ready = requestForwards(client, this.#opts.forwards, this.#requestTimeoutMs);
    this.#forwardsReady = ready.then((o) => o.forwarded);
    const outcome = await ready;
    if (this.#client !== client || !this.#machine.is('connecting')) return;
    for (const f of outcome.failed) this.#events.log(`relay refused the forward of port ${f.port}: ${f.error}`);
    if (outcome.forwarded.length === 0) {
      this.#events.log('relay refused every forward; reconnecting');
      client.end();
      return;
    }
    this.#connectedAt = this.#clock.now();
    this.#connections += 1;
    this.#machine.to('connected');
    this.#events.log(`connected to relay ${relay.host}:${relay.port}, forwarding ${outcome.forwarded.join(', ')}`);
    this.#events.connected({ forwarded: outcome.forwarded, connections: this.#connections, relay });
  }

  #onDrop(client: SshClient): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#forwardsReady = undefined;
    if (this.#machine.is('connected')) {
      if (this.#clock.now() - (this.#connectedAt ?? Infinity) >= STABLE_CONNECTION_MS) this.#attempts = 0;
      this.#machine.to('connecting');
    }
    this.#connectedAt = undefined;
    if (!this.#machine.is('connecting')) return;
    if (this.#resetPending) {
      this.#resetPending = false;
      this.#attempts = 0;
      void this.#attempt();
    } else {
      this.#scheduleRetry('connection to the relay lost');
    }
  }

  #scheduleRetry(error: string): void {
    const delayMs = backoffDelay(this.#attempts, this.#opts.random ?? Math.random, this.#opts.backoff ?? DEFAULT_BACKOFF);
    this.#attempts += 1;
    this.#events.log(`${error}; retrying in ${delayMs} ms`);
    this.#events.retrying({ error, delayMs, attempt: this.#attempts });
    this.#retryTimer = this.#clock.setTimeout(() => void this.#attempt(), delayMs);
  }

  #refuse(err: AppError): void {
    this.#stopTimers();
    this.#machine.to('closed');
    this.#events.log(err.message);
    this.#events.stopped({ reason: err.message, code: err.code, credentialRejected: isCredentialRefusal(err), byCustomer: false });
  }

  #stopTimers(): void {
    this.#cancelExpiry();
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #drain(stop: { reason: string; code: ErrorCode | null; cancel: boolean; byCustomer: boolean }): Promise<void> {
    if (this.#draining) return this.#draining;
    if (this.#machine.is('closed')) return Promise.resolve();
    this.#stopTimers();
    const info: TunnelStopped = { reason: stop.reason, code: stop.code, credentialRejected: false, byCustomer: stop.byCustomer };
    if (this.#machine.is('initial')) {
      this.#machine.to('closed');
      this.#events.stopped(info);
      return Promise.resolve();
    }
    this.#machine.to('draining');
    this.#events.log(`stopping: ${stop.reason}`);
    this.#draining = (async () => {
      const owned = this.#client;
      let client = owned;
      const told = (async () => {
        client ??= await this.#takePendingDial();
        if (!client || !stop.cancel) return;
        // Forwards must exist to be cancelled: a connection made while disabling asks for them first.
        const ports = owned ? ((await this.#forwardsReady) ?? []) : (await requestForwards(client, this.#opts.forwards, this.#requestTimeoutMs)).forwarded;
        await cancelForwards(client, ports, this.#requestTimeoutMs);
      })();
      if (!(await this.#within(told, DRAIN_CANCEL_BUDGET_MS))) this.#events.log(`the relay did not answer the cancel within ${DRAIN_CANCEL_BUDGET_MS} ms: ending the connection`);
      if (client) await endAndWait(client, Math.min(this.#requestTimeoutMs, DRAIN_END_WAIT_MS));
      this.#machine.to('closed');
      this.#events.stopped(info);
    })();
    return this.#draining;
  }

  /** Whether `work` settled within `ms` (it goes on either way). */
  async #within(work: Promise<void>, ms: number): Promise<boolean> {
    let timer: unknown;
    const late = new Promise<false>((resolve) => (timer = this.#clock.setTimeout(() => resolve(false), ms)));
    const settled = await Promise.race([work.then(() => true as const, () => true as const), late]);
    this.#clock.clearTimeout(timer);
    return settled;
  }

  /** The in-flight dial's client, waited for no longer than one request timeout. */
  async #takePendingDial(): Promise<SshClient | undefined> {
    const pending = this.#pendingDial;
    if (!pending) return undefined;
    this.#drainTakesDial = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.#requestTimeoutMs)));
    const client = await Promise.race([pending.catch(() => undefined), late]);
    clearTimeout(timer);
    this.#drainTakesDial = false;
    return client;
  }
}
