// `ktether enroll --api URL --token T`: creates a fresh appliance identity (Ed25519 for request
// signatures, X25519 for sealed keys) and registers it, with serial, product and version, using a
// single-use token from support. The identity is written (0600) only once the API accepted it.
import { createHash } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import { generateIdentityKeys } from '../../shared/key/sealing.js';
import { loadAgentConfig } from '../agent-config.js';
import { enrol } from '../api-client.js';
import { identityPublicKeys, writeIdentity } from '../identity.js';
import { homePaths, parseOptions, requireOption, type CliContext } from './cli-context.js';

function parseApi(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('usage', `invalid --api "${text}": expected a URL such as https://tether.vendor.example`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('usage', `invalid --api "${text}": use an https:// (or http://) URL`);
  if (url.search || url.hash) throw new AppError('usage', `invalid --api "${text}": no query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

export async function enrollCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { api: { type: 'string' }, token: { type: 'string' } });
  const api = parseApi(requireOption(o.api, 'api'));
  const token = requireOption(o.token, 'token').trim();
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const keys = generateIdentityKeys();
  const pub = identityPublicKeys(keys);
  const answer = await enrol(api, keys.signKey, { token, serial: config.serial, product: config.product, version: config.version, ...pub });
  writeIdentity(paths, { serial: config.serial, api, ...keys, enrolledAt: answer.enrolledAt, reportedVersion: config.version });
  const id = createHash('sha256').update(Buffer.from(pub.sealPub, 'base64url')).digest('base64').replace(/=+$/, '').slice(0, 16);
  ctx.out(`ktether enrolled: ${config.product.toUpperCase()} ${config.serial} (version ${config.version}) with ${api}; identity ${id}, keys in ${paths.identity}`);
  return 0;
}
