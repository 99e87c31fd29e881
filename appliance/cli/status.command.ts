// `ktether status [--json]`: the appliance, the recorded tether and whether its daemon is alive;
// for an enrolled appliance also the keys waiting in its inbox (asked of the API, briefly).
import { loadAgentConfig } from '../agent-config.js';
import { readIdentity } from '../identity.js';
import { buildStatus } from '../status-report.js';
import { statusLines } from '../status-lines.js';
import { homePaths, parseOptions, type CliContext } from './cli-context.js';

export async function statusCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { json: { type: 'boolean' } });
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const status = await buildStatus(paths, config, readIdentity(paths), { inbox: true });
  for (const line of statusLines(status, o.json === true)) ctx.out(line);
  return 0;
}
