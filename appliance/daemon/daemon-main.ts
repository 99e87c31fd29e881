// Entry of the background daemon process that `enable` and `reset` spawn (node running this
// compiled file, detached, with an IPC channel). Reads KTETHER_HOME, runs, exits with its code.
import { loadAgentHome } from '../../shared/agent-env.js';
import { describeError, isAppError } from '../../shared/errors.js';
import { agentPaths } from '../agent-home.js';
import { fileLog } from '../agent-log.js';
import { runDaemon } from './daemon.js';
import { GO_MESSAGE, STANDBY_FLAG, type DaemonMessage } from './daemon-ipc.js';

function send(message: DaemonMessage): Promise<void> {
  // The spawner disconnects once it has its answer; later messages go nowhere.
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const home = loadAgentHome();
const log = fileLog(agentPaths(home).logFile);
process.on('disconnect', () => {});
process.on('uncaughtException', (err) => {
  log(`daemon failed: ${describeError(err)}`);
  process.exit(1);
});

/** In standby, wait for the spawner's go; a spawner that disconnects first had nothing accepted. */
function awaitGo(): Promise<boolean> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve(false);
    process.once('message', (m: unknown) => resolve((m as { type?: string } | null)?.type === GO_MESSAGE.type));
    process.once('disconnect', () => resolve(false));
  });
}

if (process.argv.includes(STANDBY_FLAG) && !(await awaitGo())) process.exit(0);

let code = 1;
try {
  code = await runDaemon({ home, send });
} catch (err) {
  log(`daemon failed: ${describeError(err)}`);
  await send({ type: 'stopped', code: isAppError(err) ? err.code : 'internal', reason: describeError(err), byCustomer: false });
}
process.exit(code);
