// The agent's one environment setting, KTETHER_HOME, read the same way by every ktether command
// and the daemon. Kept apart from the server's configuration (shared/config.ts), which the agent
// never loads: it ships to appliances with nothing of the server side.
import { resolve } from 'node:path';
import { DEFAULT_KTETHER_HOME } from './agent-defaults.js';
import { AppError } from './errors.js';

export function loadAgentHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.KTETHER_HOME ?? DEFAULT_KTETHER_HOME;
  if (home.trim() === '') throw new AppError('config_invalid', 'invalid configuration: KTETHER_HOME: must not be empty');
  return resolve(home);
}
