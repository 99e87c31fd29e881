// `ktether init`: records the appliance's identity, vendor key and forward targets in
// KTETHER_HOME. Refused while a tether daemon runs (its serial and targets would change under it).
import { readFileSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';
import { productSchema, serialSchema } from '../../shared/key/tether-key.schema.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { ACCOUNT_PROVIDER_KINDS, defaultForwards, parseForward, saveAgentConfig, type AccountProviderKind } from '../agent-config.js';
import { ensureHome, writeFileAtomic } from '../agent-home.js';
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
  });
  const serial = serialSchema.safeParse(requireOption(o.serial, 'serial'));
  if (!serial.success) throw new AppError('usage', `invalid --serial: ${serial.error.issues[0]?.message}`);
  const product = productSchema.safeParse(requireOption(o.product, 'product'));
  if (!product.success) throw new AppError('usage', '--product must be sma or sda');
  const version = requireOption(o.version, 'version');
  if (version.length > 32) throw new AppError('usage', '--version is too long');
  const accounts = (o.accounts ?? 'file') as AccountProviderKind;
  if (!ACCOUNT_PROVIDER_KINDS.includes(accounts)) throw new AppError('usage', '--accounts must be file or linux');
  const forwards = defaultForwards();
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

  const paths = homePaths(ctx);
  const daemon = daemonStatus(paths);
  if (daemon.running) throw new AppError('agent_busy', `a tether is running (pid ${daemon.pid}): run ktether disable first`);
  ensureHome(paths);
  writeFileAtomic(paths.vendorKey, pem);
  saveAgentConfig(paths, { v: 1, serial: serial.data, product: product.data, version, vendorKeyFile: 'vendor.pub', forwards, accounts });
  ctx.out(`ktether initialised: ${product.data.toUpperCase()} ${serial.data} (version ${version}), accounts: ${accounts}, state in ${paths.home}`);
  return 0;
}
