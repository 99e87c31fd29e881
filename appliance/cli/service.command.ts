// `ktether service`: the resident agent, one process. Claims the control socket (replacing a stale
// one), resumes a recorded tether (after a crash: the familiar unclean-shutdown line), serves the
// Tether page, and runs until SIGTERM/SIGINT, which leave a running tether to resume at the next
// start (only `disable` ends it). SIGHUP re-establishes the connection, as with the daemon.
import { describeError } from '../../shared/errors.js';
import { ensureHome } from '../agent-home.js';
import { fileLog } from '../agent-log.js';
import { systemClock } from '../clock.js';
import { PageServer } from '../page/page-server.js';
import type { Progress } from '../service/control-protocol.js';
import { socketPath } from '../service/control-protocol.js';
import { ControlServer, type ControlHandler } from '../service/control-server.js';
import { loadServiceSettings } from '../service/service-settings.js';
import { DEFAULT_WAIT_MS } from '../service/service-types.js';
import { TetherService } from '../service/tether-service.js';
import { WarmCache } from '../service/warm-cache.js';
import { warmUpClickPath } from '../service/warm-up.js';
import { homePaths, parseOptions, say, type CliContext } from './cli-context.js';

export function controlHandler(service: TetherService, log: (m: string) => void): ControlHandler {
  return async (req, progress: (p: Progress) => void) => {
    const out = { say: (m: string) => progress({ say: m }), raw: (line: string) => progress({ raw: line }) };
    if (req.op !== 'status' && req.op !== 'log') log(`ktether ${req.op}${req.op === 'enable' ? ` (${req.source.kind})` : ''} requested on the control socket`);
    switch (req.op) {
      case 'status':
        return service.status({ inbox: req.inbox ?? false });
      case 'enable':
        return service.enable({ source: req.source, password: req.password, timeoutMs: req.timeoutMs, wording: 'cli' }, out);
      case 'disable':
        return { disabled: await service.disable(out) };
      case 'reset':
        await service.reset(req.timeoutMs ?? DEFAULT_WAIT_MS, out);
        return null;
      case 'log':
        return { lines: service.logTail(req.lines ?? 50) };
    }
  };
}

export async function serviceCommand(args: string[], ctx: CliContext): Promise<number> {
  parseOptions(args, {});
  const settings = loadServiceSettings(ctx.env);
  const paths = homePaths(ctx);
  ensureHome(paths);
  const log = fileLog(paths.logFile);
  const clock = systemClock;
  const warm = new WarmCache(paths, { clock, log, runner: ctx.runner });
  let page: PageServer | undefined;
  const service = new TetherService({ paths, warm, log, clock, pid: process.pid, pageUrl: () => page?.url ?? null });
  const control = new ControlServer({ path: socketPath(paths.home), handler: controlHandler(service, log), log });

  const claim = await control.start();
  if (claim === 'stale') {
    say(ctx, `replaced a stale control socket left by a service that is gone (${socketPath(paths.home)})`);
    log('replaced a stale control socket left by a service that is gone');
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log('service stopping');
      await page?.close();
      await control.close();
      await service.close();
    })());
  try {
    await service.start((line) => ctx.out(line));
    if (settings.uiListen) {
      page = new PageServer({ listen: settings.uiListen, service, paths, clock, log });
      await page.start();
    }
    await warmUpClickPath(page?.url ?? null).catch((err: unknown) => log(`service: warm-up failed (the first click pays for it): ${describeError(err)}`));
  } catch (err) {
    await stop();
    throw err;
  }
  const ready = `Service ready (pid ${process.pid}): control socket ${socketPath(paths.home)}, Tether page ${page?.url ?? 'off'}`;
  say(ctx, ready);
  log(ready);

  const done = new Promise<void>((resolve) => {
    const onStop = (): void => void stop().then(resolve);
    process.once('SIGTERM', onStop);
    process.once('SIGINT', onStop);
  });
  const onHup = (): void => {
    if (service.phase !== 'running') return;
    void service.reset(DEFAULT_WAIT_MS, { say: log, raw: log }).catch((err: unknown) => log(`reset: ${describeError(err)}`));
  };
  process.on('SIGHUP', onHup);
  await done;
  process.off('SIGHUP', onHup);
  say(ctx, 'Service stopped.');
  return 0;
}
