// The pieces of `ktether service` run inside the test process (the control socket, the service and,
// if asked, the Tether page), so a test can inject a CommandRunner for the linux account provider;
// the compiled CLI is still a child process talking to the socket, exactly as with the real service.
import { ensureHome, type AgentPaths } from '../../appliance/agent-home.js';
import { fileLog } from '../../appliance/agent-log.js';
import type { CommandRunner } from '../../appliance/accounts/command-runner.js';
import { controlHandler } from '../../appliance/cli/service.command.js';
import { systemClock } from '../../appliance/clock.js';
import { PageServer } from '../../appliance/page/page-server.js';
import { socketPath } from '../../appliance/service/control-protocol.js';
import { ControlServer } from '../../appliance/service/control-server.js';
import { TetherService } from '../../appliance/service/tether-service.js';
import { WarmCache } from '../../appliance/service/warm-cache.js';

export interface InProcessService {
  service: TetherService;
  /** The Tether page's address, when `page` was asked for. */
  pageUrl: string | undefined;
  close(): Promise<void>;
}

export async function startInProcessService(paths: AgentPaths, opts: { runner: CommandRunner; page?: boolean }): Promise<InProcessService> {
  ensureHome(paths);
  const log = fileLog(paths.logFile);
  const clock = systemClock;
  const warm = new WarmCache(paths, { clock, log, runner: opts.runner });
  let page: PageServer | undefined;
  const service = new TetherService({ paths, warm, log, clock, pid: process.pid, pageUrl: () => page?.url ?? null });
  const control = new ControlServer({ path: socketPath(paths.home), handler: controlHandler(service, log), log });
  await control.start();
  await service.start(() => undefined);
  if (opts.page) {
    page = new PageServer({ listen: { host: '127.0.0.1', port: 0 }, service, paths, clock, log });
    await page.start();
  }
  return {
    service,
    pageUrl: page?.url ?? undefined,
    close: async () => {
      await page?.close();
      await control.close();
      await service.close();
    },
  };
}
