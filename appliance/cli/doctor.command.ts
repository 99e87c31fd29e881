// `ktether doctor [--relay HOST:PORT]`: checks the prerequisites of a tether one by one and names
// the first that fails: serial set, outbound TCP to the relay, SSH enabled, database access (SMA).
import { AppError, describeError, isAppError } from '../../shared/errors.js';
import { forwardTarget, loadAgentConfig, type AgentConfig } from '../agent-config.js';
import { probeTcp } from '../tcp-probe.js';
import { readTetherState } from '../tether-state.js';
import { homePaths, parseOptions, type CliContext } from './cli-context.js';

const PROBE_TIMEOUT_MS = 5_000;

function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new AppError('usage', `invalid --relay "${text}": expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

async function reach(host: string, port: number): Promise<string> {
  const r = await probeTcp(host, port, PROBE_TIMEOUT_MS);
  if (!r.ok) throw new AppError('doctor_failed', `${host}:${port}: ${r.error}`);
  return `${host}:${port}`;
}

async function reachTarget(config: AgentConfig, port: number): Promise<string> {
  const t = forwardTarget(config, port);
  if (!t) throw new AppError('doctor_failed', `no forward target configured for port ${port}`);
  return `port ${port} → ${await reach(t.host, t.port)}`;
}

export async function doctorCommand(args: string[], ctx: CliContext): Promise<number> {
  const o = parseOptions(args, { relay: { type: 'string' } });
  const relayOption = o.relay !== undefined ? parseHostPort(o.relay) : undefined;
  const paths = homePaths(ctx);

  const check = async <T>(name: string, run: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    try {
      const { value, detail } = await run();
      ctx.out(`ok    ${name} (${detail})`);
      return value;
    } catch (err) {
      const reason = describeError(err);
      ctx.out(`FAIL  ${name}: ${reason}`);
      throw new AppError('doctor_failed', `doctor: ${name} failed: ${reason}`);
    }
  };

  const config = await check('serial present', async () => {
    try {
      const c = loadAgentConfig(paths);
      return { value: c, detail: c.serial };
    } catch (err) {
      if (isAppError(err, 'agent_not_initialised')) throw new AppError('doctor_failed', 'no serial configured: run ktether init');
      throw err;
    }
  });
  await check('outbound TCP to the relay', async () => {
    const relay = relayOption ?? readTetherState(paths)?.relay;
    if (!relay) throw new AppError('doctor_failed', 'no relay known yet (no key enabled here): give --relay HOST:PORT');
    return { value: null, detail: await reach(relay.host, relay.port) };
  });
  await check('SSH enabled', async () => ({ value: null, detail: await reachTarget(config, 22) }));
  if (config.product === 'sma') await check('database access enabled', async () => ({ value: null, detail: await reachTarget(config, 3306) }));
  ctx.out('all checks passed');
  return 0;
}
