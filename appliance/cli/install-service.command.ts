// `ktether install-service [--dest DIR] [--ui-listen HOST:PORT]`: writes the systemd unit of the
// resident agent (appliance/packaging/) for this appliance: this node, this ktether build, this
// KTETHER_HOME, the page's address and what the configured account provider must be able to write.
// It does not run systemctl: it prints the two commands to run (an image build may not boot systemd).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.js';
import { loadAgentConfig } from '../agent-config.js';
import { writeFileAtomic } from '../agent-home.js';
import { renderUnit } from '../packaging/systemd-unit.js';
import { loadServiceSettings } from '../service/service-settings.js';
import { homePaths, parseOptions, type CliContext } from './cli-context.js';

export const UNIT_NAME = 'ktether.service';
const DEFAULT_DEST = '/etc/systemd/system';

export async function installServiceCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { dest: { type: 'string' }, 'ui-listen': { type: 'string' } });
  const dest = o.dest ?? DEFAULT_DEST;
  if (!existsSync(dest) || !statSync(dest).isDirectory()) throw new AppError('usage', `--dest ${dest} is not a directory`);
  const uiListen = o['ui-listen'] ?? ctx.env.KTETHER_UI_LISTEN ?? '127.0.0.1:8442';
  loadServiceSettings({ KTETHER_UI_LISTEN: uiListen }); // the same check the service makes at start
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths); // initialised first: the unit's writable paths follow its account provider
  const ktether = fileURLToPath(new URL('../../scripts/ktether.js', import.meta.url));
  if (!existsSync(ktether)) throw new AppError('internal', `${ktether} is missing: run install-service from the ktether build (npm run build)`);
  let unit: string;
  try {
    unit = renderUnit({ node: process.execPath, ktether, home: paths.home, uiListen, accounts: config.accounts });
  } catch (err) {
    throw new AppError('usage', (err as Error).message);
  }
  const file = join(dest, UNIT_NAME);
  writeFileAtomic(file, unit, 0o644);
  ctx.out(`wrote ${file} (KTETHER_HOME=${paths.home}, Tether page on ${uiListen}, accounts: ${config.accounts})`);
  if (dest === DEFAULT_DEST) ctx.out('now run: systemctl daemon-reload && systemctl enable --now ktether');
  else ctx.out(`install it with: cp ${file} ${DEFAULT_DEST}/ && systemctl daemon-reload && systemctl enable --now ktether`);
  return 0;
}
