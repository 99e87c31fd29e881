// `ktether enable|disable|status|reset` when a service runs: the same options, output and exit
// codes, but the service does the work (no daemon to start) and streams the familiar lines back.
// Returns undefined when no service answers, and the command then runs the way it always did.
// Loads nothing heavy: Node built-ins, the protocol's types and the log-line format.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_KTETHER_HOME } from '../../shared/agent-defaults.js';
import { AppError } from '../../shared/errors.js';
import { logLine } from '../log-line.js';
import { socketPath, type EnableSource, type Progress } from '../service/control-protocol.js';
import { connectService, type ServiceConnection } from '../service/control-client.js';
import { statusLines, type StatusReport } from '../status-lines.js';
import { parseOptions } from './cli-options.js';
import { parseEnableOptions, parseResetOptions } from './command-options.js';

const SERVICE_COMMANDS: ReadonlySet<string> = new Set(['enable', 'disable', 'status', 'reset']);

interface ClientContext {
  out: (line: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

/** The service's socket for this environment's KTETHER_HOME (an empty one is left to the usual validation). */
export function serviceSocketFor(env: NodeJS.ProcessEnv): string | undefined {
  if (env.KTETHER_HOME === '') return undefined;
  return socketPath(resolve(env.KTETHER_HOME ?? DEFAULT_KTETHER_HOME));
}

export async function viaService(name: string, args: string[], ctx: ClientContext): Promise<number | undefined> {
  const path = serviceSocketFor(ctx.env);
  if (!SERVICE_COMMANDS.has(name) || path === undefined || !existsSync(path)) return undefined;
  // Options are checked before the service is asked, exactly as the commands check them.
  const request = requestFor(name, args);
  const conn = await connectService(path);
  if (!conn) return undefined; // a stale socket: no service runs
  try {
    return await run(conn, name, request, ctx);
  } finally {
    conn.close();
  }
}

type Prepared = { op: 'enable'; source: EnableSource; password?: string; timeoutMs: number } | { op: 'disable' } | { op: 'reset'; timeoutMs: number } | { op: 'status'; json: boolean };

function requestFor(name: string, args: string[]): Prepared {
  if (name === 'disable') {
    parseOptions(args, {});
    return { op: 'disable' };
  }
  if (name === 'status') return { op: 'status', json: parseOptions(args, { json: { type: 'boolean' } }).json === true };
  if (name === 'reset') return { op: 'reset', timeoutMs: parseResetOptions(args).waitMs };
  const o = parseEnableOptions(args);
  let source: EnableSource;
  if (o.description !== undefined) source = { kind: 'description', description: o.description };
  else if (o.pending) source = { kind: 'pending' };
  else if (o['key-file'] !== undefined) {
    try {
      source = { kind: 'key', key: readFileSync(o['key-file'], 'utf8') };
    } catch {
      throw new AppError('usage', `cannot read --key-file ${o['key-file']}`);
    }
  } else source = { kind: 'key', key: o.key ?? '' };
  return { op: 'enable', source, ...(o.password !== undefined ? { password: o.password } : {}), timeoutMs: o.waitMs };
}

async function run(conn: ServiceConnection, name: string, r: Prepared, ctx: ClientContext): Promise<number> {
  const print = (p: Progress): void => ctx.out('say' in p ? logLine(p.say, ctx.now()) : p.raw);
  switch (r.op) {
    case 'status': {
      const status = (await conn.request({ op: 'status', inbox: true })) as StatusReport;
      for (const line of statusLines(status, r.json)) ctx.out(line);
      return 0;
    }
    case 'enable':
      await conn.request({ op: 'enable', source: r.source, ...(r.password !== undefined ? { password: r.password } : {}), timeoutMs: r.timeoutMs }, print);
      return 0;
    case 'disable':
      await conn.request({ op: 'disable' }, print);
      return 0;
    case 'reset':
      await conn.request({ op: 'reset', timeoutMs: r.timeoutMs }, print);
      return 0;
  }
  throw new AppError('internal', `${name}: not a service command`);
}
