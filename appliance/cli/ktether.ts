// The `ktether` command line: dispatches to one command, maps errors to exit codes (0 ok, 1 refused
// or failed with one line on stderr, 2 usage) and never prints a stack. With a `ktether service`
// running, enable, disable, status and reset are answered by it (service-client.ts). The hidden
// `daemon` command runs the tunnel daemon in the foreground (what the spawned background process runs).
import { describeError, isAppError } from '../../shared/errors.js';
import type { CliContext } from './cli-context.js';
import { agentVersion } from './version.js';

export const USAGE = `usage: ktether <command> [options]   (state in $KTETHER_HOME, default ./.ktether)
  init --serial SN --product sma|sda --version V --vendor-key FILE [--forward PORT=HOST:PORT ...] [--accounts file|linux]
  enroll --api URL --token T
  enable --key KEY | --key-file FILE | --description TEXT | --pending [--password PW] [--timeout 30s]
  disable
  reset [--timeout 30s]
  status [--json]
  doctor [--relay HOST:PORT]
  service                  (the resident agent and its Tether page; KTETHER_UI_LISTEN, default 127.0.0.1:8442)
  install-service [--dest DIR] [--ui-listen HOST:PORT]
  --version`;

type Command = (args: string[], ctx: CliContext) => Promise<number>;

/** Commands a running service answers (kept here so other commands never load the client). */
const SERVICE_COMMANDS: ReadonlySet<string> = new Set(['enable', 'disable', 'status', 'reset']);

// Loaded on demand: only the commands that talk SSH pay for loading ssh2 (start-up time counts
// towards enable-to-ready on slow appliances).
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./init.command.js')).initCommand,
  enroll: async () => (await import('./enroll.command.js')).enrollCommand,
  enable: async () => (await import('./enable.command.js')).enableCommand,
  disable: async () => (await import('./disable.command.js')).disableCommand,
  reset: async () => (await import('./reset.command.js')).resetCommand,
  status: async () => (await import('./status.command.js')).statusCommand,
  doctor: async () => (await import('./doctor.command.js')).doctorCommand,
  service: async () => (await import('./service.command.js')).serviceCommand,
  'install-service': async () => (await import('./install-service.command.js')).installServiceCommand,
  daemon: async () => {
    const { loadAgentHome } = await import('../../shared/agent-env.js');
    const { runDaemon } = await import('../daemon/daemon.js');
    return async (_args, ctx) => runDaemon({ home: loadAgentHome(ctx.env), ...(ctx.runner ? { runner: ctx.runner } : {}) });
  },
};

export async function runKtether(argv: string[], over: Partial<CliContext> = {}): Promise<number> {
  const ctx: CliContext = {
    out: over.out ?? ((line) => process.stdout.write(`${line}\n`)),
    err: over.err ?? ((line) => process.stderr.write(`${line}\n`)),
    env: over.env ?? process.env,
    now: over.now ?? (() => new Date()),
    runner: over.runner,
    early: over.early,
  };
  const [name, ...args] = argv;
  // Every error line carries one prefix, whoever wrote it (parser, command, daemon report).
  const fail = (line: string, code: number): number => {
    ctx.err(`ktether: ${line}`);
    return code;
  };
  if (name === 'help' || name === '--help' || name === '-h') {
    ctx.out(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    ctx.out(agentVersion());
    return 0;
  }
  if (name === undefined) return fail('missing command: use init, enroll, enable, disable, reset, status, doctor or service (ktether help lists the options)', 2);
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) return fail(`unknown command "${name}": use init, enroll, enable, disable, reset, status, doctor or service`, 2);
  try {
    if (SERVICE_COMMANDS.has(name)) {
      const { viaService } = await import('./service-client.js');
      const answered = await viaService(name, args, ctx);
      if (answered !== undefined) return answered;
    }
    return await (await load())(args, ctx);
  } catch (err) {
    if (isAppError(err)) return fail(err.message.split('\n')[0] ?? err.code, err.code === 'usage' ? 2 : 1);
    return fail(`internal error: ${describeError(err)}`, 1);
  }
}
