// The background tunnel daemon: runs one TunnelAgent for the tether recorded in state.json, keeps
// the pid and state files current, escrows an appliance-generated support password, answers SIGHUP
// (reset) and SIGTERM (disable), and tears the tether down when the relay refuses it for good.
// Reports its first outcome over IPC.
import { existsSync, readFileSync } from 'node:fs';
import { AppError, describeError } from '../../shared/errors.js';
import { ESCROW_REQUEST } from '../../shared/key/password-escrow.js';
import { forwardTarget, loadAgentConfig } from '../agent-config.js';
import { agentPaths, removeIfExists } from '../agent-home.js';
import { fileLog } from '../agent-log.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import { readEscrow, removeEscrow } from '../escrow-file.js';
import type { CommandRunner } from '../accounts/command-runner.js';
import { daemonStatus, isTetherLive, readTetherState, removePidFile, updateTetherState, writePid } from '../tether-state.js';
import type { ForwardSpec } from '../tunnel/forwards.js';
import { TunnelAgent, type TunnelStopped } from '../tunnel/tunnel-agent.js';
import type { DaemonSend } from './daemon-ipc.js';
import { EscrowDelivery } from './escrow-delivery.js';
import { teardownTether } from './teardown.js';

export interface DaemonOptions {
  home: string;
  send?: DaemonSend;
  runner?: CommandRunner;
  pid?: number;
}

/** Runs until the tether ends; resolves with the process exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const paths = agentPaths(opts.home);
  const pid = opts.pid ?? process.pid;
  const send: DaemonSend = opts.send ?? (() => {});
  const log = fileLog(paths.logFile);
  const config = loadAgentConfig(paths);
  const recorded = readTetherState(paths);
  if (!isTetherLive(paths, recorded)) throw new AppError('agent_not_running', 'no tether is enabled: nothing for the daemon to run');
  const other = daemonStatus(paths);
  if (other.running && other.pid !== pid) throw new AppError('agent_busy', `a tether daemon is already running (pid ${other.pid})`);
  writePid(paths, pid);

  const forwards: ForwardSpec[] = recorded.ports.flatMap((port) => {
    const target = forwardTarget(config, port);
    return target ? [{ port, target }] : [];
  });
  const baseConnections = recorded.connections;
  let everConnected = recorded.connectedAt !== null;
  const accounts = accountProviderFor(config.accounts, paths, opts.runner);
  updateTetherState(paths, { state: 'initial', pid, lastError: null });
  log(`Starting ssh. session ${recorded.sessionId}, relay ${recorded.relay.host}:${recorded.relay.port}, pid ${pid}`);

  // The state file is for status and reset; failing to write it must not take the tunnel down.
  const record = (change: Parameters<typeof updateTetherState>[1]): void => {
    try {
      updateTetherState(paths, change);
    } catch (err) {
      log(`cannot record the state: ${describeError(err)}`);
    }
  };

  // An escrow key's password, sealed to the vendor: sent on each connection until acknowledged once.
  const box = recorded.escrow === 'pending' ? readEscrow(paths) : undefined;
  if (recorded.escrow === 'pending' && !box) log('password escrow pending, but its sealed box is missing: nothing to send');
  const escrow = box
    ? new EscrowDelivery({
        box,
        request: (data) => agent.request(ESCROW_REQUEST, data),
        acknowledged: () => {
          record({ escrow: 'acknowledged' });
          removeEscrow(paths);
        },
        log,
      })
    : undefined;

  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const onStopped = async (info: TunnelStopped): Promise<void> => {
    escrow?.onDisconnected();
    const markUsed = everConnected || info.credentialRejected || info.code === 'key_expired';
    let code = info.byCustomer ? 0 : 1;
    try {
      await teardownTether({ paths, accounts, reason: info.byCustomer ? null : info.reason, markUsed, pid, log });
    } catch (err) {
      log(describeError(err));
      code = 1;
    }
    log(info.byCustomer ? 'Tether disabled.' : `Tether stopped: ${info.reason}`);
    await send({ type: 'stopped', code: info.code, reason: info.reason, byCustomer: info.byCustomer });
    finish(code);
  };

  const agent = new TunnelAgent({
    relay: recorded.relay,
    username: config.serial,
    privateKey: readFileSync(paths.tunnelKey, 'utf8'),
    activationKey: existsSync(paths.activationKey) ? readFileSync(paths.activationKey, 'utf8') : undefined,
    forwards,
    expiresAt: Date.parse(recorded.expiresAt),
    events: {
      log,
      state: (to, from) => {
        if (to !== 'closed') record({ state: to });
        if (from === 'connected') escrow?.onDisconnected();
      },
      connected: ({ forwarded, connections }) => {
        everConnected = true;
        removeIfExists(paths.activationKey); // spent: the relay accepts only tunnel_key from now on
        record({ connectedAt: new Date().toISOString(), connections: baseConnections + connections, lastError: null });
        // The escrow's first attempt (one round trip, at most one request timeout) comes before the
        // report, so a password is in custody when enable returns.
        void (escrow?.onConnected() ?? Promise.resolve()).then(() =>
          send({ type: 'connected', sessionId: recorded.sessionId, relay: `${recorded.relay.host}:${recorded.relay.port}`, ports: forwarded }),
        );
      },
      retrying: ({ error, delayMs }) => {
        record({ lastError: error });
        void send({ type: 'retrying', error, delayMs });
      },
      stopped: (info) => void onStopped(info),
    },
  });

  const onHup = (): void => {
    log('reset requested');
    agent.reset();
  };
  const onTerm = (): void => {
    log('disable requested');
    void agent.drain();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  try {
    agent.start();
    return await done;
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
    removePidFile(paths, pid);
  }
}
