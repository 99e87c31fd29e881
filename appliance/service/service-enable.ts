// One enable inside the service, from request to connected tunnel: checks the input (nothing asked
// or changed on a refusal), finds the key (pasted; one-click: asked of the API with the customer's
// description; pushed: from the inbox), sets the appliance up (prepare-tether.ts), runs the tunnel
// in-process and waits for its first outcome; undoes everything if it never comes up. Measures
// where the milliseconds go.
import { AppError, describeError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/duration.js';
import { generatePassword as freshPassword } from '../../shared/key/password-escrow.js';
import { oneClickRefusal, supportsOneClick } from '../../shared/protocol.js';
import type { AgentConfig } from '../agent-config.js';
import type { AccountProvider } from '../accounts/account-provider.js';
import { fetchInbox, reportVersionIfChanged, requestTether } from '../api-client.js';
import { teardownTether } from '../daemon/teardown.js';
import type { TetherRunner } from '../daemon/tether-runner.js';
import { requireIdentity, type ApplianceIdentity } from '../identity.js';
import { MIN_PASSWORD_LENGTH } from '../key-acceptance.js';
import { acceptTether, createSupportAccount, undoAcceptedTether, type EnableOutput } from '../prepare-tether.js';
import { readTetherState } from '../tether-state.js';
import { MAX_DESCRIPTION, WORDS } from './enable-wording.js';
import { DEFAULT_WAIT_MS, type EnableRequest, type EnableResult, type EnableTimings, type RunnerEvent, type TetherServiceDeps } from './service-types.js';
import type { ReadyPassword } from './password-ahead.js';
import type { WarmCache } from './warm-cache.js';

/** What an enable needs of the service that runs it. */
export interface EnableHost {
  deps: TetherServiceDeps;
  nextEvent(match: (e: RunnerEvent) => boolean, timeoutMs: number): Promise<RunnerEvent | undefined>;
}

export interface EnableHooks {
  /** The service moves to `enabling` (after the input checks). */
  begin(): void;
  /** A disable arrived meanwhile. */
  aborted(): boolean;
  /** Starts the tunnel; its first login waits for `loginGate`. */
  startRunner(loginGate?: Promise<void>): TetherRunner;
  /** Stops a runner whose login never happened, leaving nothing torn down (the caller undoes its files). */
  closeRunner(): Promise<void>;
  /** Stops the runner that never came up (the relay is told, if it ever answers) and waits for it. */
  drainRunner(): Promise<void>;
  /** When the runner's first dial took place and when its agent reached `connected` (clock ms). */
  dialWindow(): { start: number; kex: number; end: number } | undefined;
  connectedAt(): number | undefined;
}

const disabledBeforeUp = (code: AppError['code'] | null = null) => new AppError(code ?? 'agent_not_running', 'the tether was disabled before it came up');

async function enrolledIdentity(warm: WarmCache, config: AgentConfig): Promise<ApplianceIdentity> {
  const identity = warm.identity() ?? requireIdentity(warm.paths);
  if (identity.serial.toUpperCase() !== config.serial.toUpperCase()) {
    throw new AppError('appliance_not_enrolled', `enrolled as ${identity.serial}, but configured as ${config.serial}: run ktether enroll again with a token for ${config.serial}`);
  }
  return reportVersionIfChanged(warm.paths, identity, config.version);
}

export async function acceptAndConnect(svc: EnableHost, req: EnableRequest, out: EnableOutput, hooks: EnableHooks): Promise<EnableResult> {
  const { paths, warm, clock } = svc.deps;
  const words = WORDS[req.wording];
  const t0 = clock.now();
  const cpu0 = process.cpuUsage();
  const waitMs = req.timeoutMs ?? DEFAULT_WAIT_MS;
  // A bad customer password or description is refused before anything is asked of the API.
  if (req.password !== undefined && (req.password.length < MIN_PASSWORD_LENGTH || /[\n\r]/.test(req.password))) throw new AppError('usage', words.passwordRule);
  const config = warm.config();
  const source = req.source;
  let description = '';
  if (source.kind === 'description') {
    description = source.description.trim();
    if (!description) throw new AppError('usage', words.descriptionEmpty);
    if (description.length > MAX_DESCRIPTION) throw new AppError('usage', words.descriptionTooLong(description.length));
    if (!supportsOneClick(config.product, config.version)) throw new AppError('version_unsupported', oneClickRefusal(config.product, config.version));
  }
  if (source.kind === 'key' && req.wording === 'page' && source.key.trim() === '') throw new AppError('key_malformed', words.keyEmpty);

  hooks.begin();
  let keyText: string;
  let notes: string[] = [];
  let ticket: string | undefined;
  let apiMs: number | null = null;
  if (source.kind === 'description') {
    const identity = await enrolledIdentity(warm, config);
    const asked = clock.now();
    // The click gets the whole timeout: asking for the key is part of coming up.
    const answer = await requestTether(identity, { description, passwordMode: req.password === undefined ? 'escrow' : 'customer' }, waitMs);
    apiMs = clock.now() - asked;
    ticket = `${answer.ticket.system}:${answer.ticket.id}`;
    keyText = answer.key;
    notes = [`Support ticket ${ticket} ${answer.ticketCreated ? 'opened' : 'updated'}.`];
  } else if (source.kind === 'pending') {
    const identity = await enrolledIdentity(warm, config);
    const [waiting] = await fetchInbox(identity, waitMs);
    if (!waiting) throw new AppError('inbox_empty', 'no key is waiting for this appliance: ask support to issue one, or enable a key with --key KEY');
    if (waiting.ticket) ticket = `${waiting.ticket.system}:${waiting.ticket.id}`;
    keyText = waiting.key;
    notes = [`Accepting the key pushed at ${waiting.issuedAt}${ticket ? ` for ticket ${ticket}` : ''}.`];
  } else {
    keyText = source.key;
  }
  for (const note of notes) svc.deps.log(note);
  if (hooks.aborted()) throw disabledBeforeUp();

  const accounts = warm.accounts();
  // An escrow key has the appliance make the password: the one the service prepared ahead, if ready.
  let ahead: ReadyPassword | undefined;
  const generatePassword = () => {
    ahead = warm.passwords.take(accounts);
    return ahead?.password ?? freshPassword();
  };
  let accountMs = 0;
  const timedAccounts: AccountProvider = {
    kind: accounts.kind,
    exists: (name) => accounts.exists(name),
    remove: (name) => accounts.remove(name),
    create: async (name, password) => {
      const t = clock.now();
      try {
        await accounts.create(name, password, ahead?.password === password ? ahead.prepared : undefined);
      } finally {
        accountMs = clock.now() - t;
      }
    },
  };
  const tPrepare = clock.now();
  const plan = {
    paths,
    config,
    signers: warm.signers(),
    sealKey: warm.identity()?.sealKey,
    keyText,
    password: req.password,
    notes,
    ticket,
    accounts: timedAccounts,
    now: new Date(clock.now()),
    passwordRequired: () => new AppError('usage', words.passwordRequired),
    generatePassword,
  };
  const prepared = acceptTether(plan, out);
  const keyMs = clock.now() - tPrepare;
  const payload = prepared.accepted.payload;
  const where = `${payload.relay.host}:${payload.relay.port}`;
  if (hooks.aborted()) {
    undoAcceptedTether(paths, disabledBeforeUp());
    throw disabledBeforeUp();
  }

  // The tunnel connects (TCP, key exchange, host key pin) while the account is made; it logs in,
  // and so uses the key, only once the account exists. Subscribed first: a fast outcome is not missed.
  let openLogin!: () => void;
  let refuseLogin!: (err: unknown) => void;
  const loginGate = new Promise<void>((resolve, reject) => ((openLogin = resolve), (refuseLogin = reject)));
  loginGate.catch(() => undefined);
  const first = svc.nextEvent((e) => e.kind !== 'retrying', waitMs);
  hooks.startRunner(loginGate);
  try {
    await createSupportAccount(plan, prepared);
  } catch (err) {
    const closing = hooks.closeRunner();
    refuseLogin(err);
    await closing;
    undoAcceptedTether(paths, err);
    throw err;
  }
  if (hooks.aborted()) {
    // Disabled while the account was made: the runner's teardown may have run before the account
    // existed, so it goes here, and the login never happens.
    const aborted = disabledBeforeUp();
    const closing = hooks.closeRunner();
    refuseLogin(aborted);
    await closing;
    // The disable removes the account again and reports that; what else failed here is logged.
    await teardownTether({ paths, accounts, reason: aborted.message, markUsed: false, log: svc.deps.log }).catch((err: unknown) => svc.deps.log(describeError(err)));
    throw aborted;
  }
  const accountDoneAt = clock.now();
  openLogin();
  out.say('Starting ssh.');
  const outcome = await first;
  if (outcome === undefined) {
    const last = readTetherState(paths)?.lastError;
    const failure = new AppError('relay_unreachable', `could not connect to the relay at ${where} within ${formatDuration(waitMs)}${last ? `: ${last}` : ''}`);
    await hooks.drainRunner();
    await teardownTether({ paths, accounts, reason: failure.message, markUsed: false });
    throw failure;
  }
  if (outcome.kind === 'stopped') {
    // The runner has torn it down already (and marked the key used when the relay consumed it).
    throw outcome.info.byCustomer ? disabledBeforeUp(outcome.info.code) : new AppError(outcome.info.code ?? 'agent_not_running', outcome.info.reason);
  }
  const done = clock.now();
  const cpu = process.cpuUsage(cpu0);
  const dial = hooks.dialWindow();
  const connectedAt = hooks.connectedAt() ?? done;
  const timings: EnableTimings = {
    apiMs,
    keyMs,
    accountMs,
    kexMs: dial ? dial.kex - dial.start : 0,
    // The login starts when both the key exchange and the account are done.
    loginMs: dial ? dial.end - Math.max(dial.kex, accountDoneAt) : 0,
    forwardsMs: dial ? Math.max(0, connectedAt - dial.end) : 0,
    escrowMs: Math.max(0, done - connectedAt),
    totalMs: done - t0,
    // This process's CPU (all threads: scrypt runs on the pool) while the enable ran.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
  svc.deps.log(
    `enable timings: ${timings.apiMs !== null ? `API ${timings.apiMs} ms, ` : ''}key ${timings.keyMs} ms, account ${timings.accountMs} ms, ` +
      `connect and key exchange ${timings.kexMs} ms (beside the account), login ${timings.loginMs} ms, forwards ${timings.forwardsMs} ms, escrow ${timings.escrowMs} ms, total ${timings.totalMs} ms, CPU ${timings.cpuMs} ms`,
  );
  void warm.resolveRelay(payload.relay.host);
  return {
    sessionId: payload.sid,
    relay: where,
    ports: prepared.ports,
    expiresAt: new Date(payload.exp * 1000).toISOString(),
    ticket: ticket ?? null,
    timings,
  };
}
