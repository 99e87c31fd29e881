// `ktether init`: records the appliance's identity, vendor key and forward targets in
// KTETHER_HOME. Refused while a tether daemon runs (its serial and targets would change under it).
// `--ui-password-file FILE` sets the Tether page's local password (with the rest, or alone on an
// initialised appliance, which a running tether does not mind).
import { readFileSync } from 'node:fs';
import { AppError, describeError } from '../../shared/errors.js';
import { productSchema, serialSchema } from '../../shared/key/tether-key.schema.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { ACCOUNT_PROVIDER_KINDS, agentConfigSchema, defaultForwards, loadAgentConfig, parseForward, saveAgentConfig, type AccountProviderKind } from '../agent-config.js';
import { ensureHome, writeFileAtomic } from '../agent-home.js';
import { readUiPasswordFile, writeUiPassword } from '../page/ui-password.js';
import { daemonStatus } from '../tether-state.js';
import { homePaths, parseOptions, requireOption, type CliContext } from './cli-context.js';

export async function initCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, {
    serial: { type: 'string' },
    product: { type: 'string' },
    version: { type: 'string' },
    'vendor-key': { type: 'string' },
    forward: { type: 'string', multiple: true },
    accounts: { type: 'string' },
    'ui-password-file': { type: 'string' },
  });
  const uiPassword = o['ui-password-file'] !== undefined ? readUiPasswordFile(o['ui-password-file']) : undefined;
  if (uiPassword !== undefined && Object.keys(o).length === 1) {
    const paths = homePaths(ctx);
    const config = loadAgentConfig(paths);
    await writeUiPassword(paths, uiPassword);
    ctx.out(`Tether page password set for ${config.product.toUpperCase()} ${config.serial} (scrypt hash in ${paths.uiPassword})`);
    return 0;
  }
  const serial = serialSchema.safeParse(requireOption(o.serial, 'serial'));
  if (!serial.success) throw new AppError('usage', `invalid --serial: ${serial.error.issues[0]?.message}`);
  const product = productSchema.safeParse(requireOption(o.product, 'product'));
  if (!product.success) throw new AppError('usage', '--product must be sma or sda');
  const version = requireOption(o.version, 'version');
  if (version.length > 32) throw new AppError('usage', '--version is too long');
  const accounts = (o.accounts ?? 'file') as AccountProviderKind;
  if (!ACCOUNT_PROVIDER_KINDS.includes(accounts)) throw new AppError('usage', '--accounts must be file or linux');
  const forwards = defaultForwards(product.data);
  for (const spec of o.forward ?? []) {
    const f = parseForward(spec);
    forwards[String(f.port)] = f.target;
  }
  const vendorFile = requireOption(o['vendor-key'], 'vendor-key');
  let pem: string;
  try {
    pem = readFileSync(vendorFile, 'utf8');
  } catch {
    throw new AppError('usage', `cannot read --vendor-key ${vendorFile}`);
  }
  trustedSignersFromPem(pem);
  // The whole config is checked before anything is written: a refused init changes nothing.
  const config = agentConfigSchema.safeParse({ v: 1, serial: serial.data, product: product.data, version, vendorKeyFile: 'vendor.pub', forwards, accounts });
  if (!config.success) throw new AppError('usage', `invalid configuration: ${describeError(config.error)}`);

  const paths = homePaths(ctx);
  const daemon = daemonStatus(paths);
  if (daemon.running) throw new AppError('agent_busy', `a tether is running (pid ${daemon.pid}): run ktether disable first`);
  ensureHome(paths);
  writeFileAtomic(paths.vendorKey, pem);
  saveAgentConfig(paths, config.data);
  if (uiPassword !== undefined) await writeUiPassword(paths, uiPassword);
  ctx.out(`ktether initialised: ${product.data.toUpperCase()} ${serial.data} (version ${version}), accounts: ${accounts}, state in ${paths.home}${uiPassword !== undefined ? ', Tether page password set' : ''}`);
  return 0;
}
