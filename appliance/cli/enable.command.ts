// `ktether enable --key KEY | --key-file FILE | --description TEXT | --pending [--password PW]`:
// finds the key (pasted; from a file; one-click: asked of the API with the customer's description;
// pushed: taken from the inbox), then enables it the one way (enable-with-key.ts).
import { readFileSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';
import { oneClickRefusal, supportsOneClick } from '../../shared/protocol.js';
import { loadAgentConfig, type AgentConfig } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import { fetchInbox, reportVersionIfChanged, requestTether } from '../api-client.js';
import { requireIdentity, type ApplianceIdentity } from '../identity.js';
import { supportPassword } from '../key-acceptance.js';
import { MAX_DESCRIPTION } from '../service/enable-wording.js';
import { daemonStatus } from '../tether-state.js';
import { homePaths, type CliContext } from './cli-context.js';
import { parseEnableOptions } from './command-options.js';
import { enableWithKey } from './enable-with-key.js';

export async function enableCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseEnableOptions(args);
  const { waitMs } = o;
  // A bad customer password is refused before anything is asked of the API.
  if (o.password !== undefined) supportPassword(undefined, o.password);
  const paths = homePaths(ctx);
  const config = loadAgentConfig(paths);
  const common = { paths, config, password: o.password, waitMs };

  if (o.description !== undefined) {
    const description = o.description.trim();
    if (!description) throw new AppError('usage', '--description must say what is wrong (e.g. --description "inventory page is blank")');
    if (description.length > MAX_DESCRIPTION) throw new AppError('usage', `--description is longer than ${MAX_DESCRIPTION} characters`);
    // Refused here first, so an old appliance never opens a ticket; the API refuses it too.
    if (!supportsOneClick(config.product, config.version)) throw new AppError('version_unsupported', oneClickRefusal(config.product, config.version));
    ensureIdle(paths);
    const identity = await enrolledIdentity(paths, config);
    // The click gets the whole --timeout: asking for the key is part of coming up.
    const answer = await requestTether(identity, { description, passwordMode: o.password === undefined ? 'escrow' : 'customer' }, waitMs);
    const ticket = `${answer.ticket.system}:${answer.ticket.id}`;
    return enableWithKey({ ...common, keyText: answer.key, ticket, notes: [`Support ticket ${ticket} ${answer.ticketCreated ? 'opened' : 'updated'}.`] }, ctx);
  }

  if (o.pending) {
    ensureIdle(paths);
    const identity = await enrolledIdentity(paths, config);
    const [waiting] = await fetchInbox(identity, waitMs);
    if (!waiting) throw new AppError('inbox_empty', 'no key is waiting for this appliance: ask support to issue one, or enable a key with --key KEY');
    const ticket = waiting.ticket ? ` for ticket ${waiting.ticket.system}:${waiting.ticket.id}` : '';
    return enableWithKey(
      { ...common, keyText: waiting.key, ...(waiting.ticket ? { ticket: `${waiting.ticket.system}:${waiting.ticket.id}` } : {}), notes: [`Accepting the key pushed at ${waiting.issuedAt}${ticket}.`] },
      ctx,
    );
  }

  let keyText = o.key ?? '';
  if (o['key-file'] !== undefined) {
    try {
      keyText = readFileSync(o['key-file'], 'utf8');
    } catch {
      throw new AppError('usage', `cannot read --key-file ${o['key-file']}`);
    }
  }
  return enableWithKey({ ...common, keyText }, ctx);
}

/** One-click and the inbox would otherwise mint or take a key the running tether cannot use. */
function ensureIdle(paths: AgentPaths): void {
  const daemon = daemonStatus(paths);
  if (daemon.running) throw new AppError('agent_busy', `a tether is already enabled (pid ${daemon.pid}): run ktether disable or ktether reset first`);
}

async function enrolledIdentity(paths: AgentPaths, config: AgentConfig): Promise<ApplianceIdentity> {
  const identity = requireIdentity(paths);
  if (identity.serial.toUpperCase() !== config.serial.toUpperCase()) {
    throw new AppError('appliance_not_enrolled', `enrolled as ${identity.serial}, but configured as ${config.serial}: run ktether enroll again with a token for ${config.serial}`);
  }
  return reportVersionIfChanged(paths, identity, config.version);
}
