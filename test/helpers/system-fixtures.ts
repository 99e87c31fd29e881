// End-to-end pieces for one test file, started in beforeAll and closed in afterAll: the tether
// system and the appliance's own services. Name them in the order they may start; they close in
// reverse (name the system first when the services must close before it, last when after).
import { inject } from 'vitest';
import { startApplianceSshd, startEchoService, type TcpService } from './appliance-services.js';
import { startedForFile } from './late-bound.js';
import { startTetherSystem, type TetherSystem } from './tether-system.js';

export function useTetherSystem(): TetherSystem {
  return startedForFile('the tether system', () => startTetherSystem(inject('redisUrl')), (system) => system.close(), 60_000);
}

/** The appliance's web UI on 443: an echo service. */
export function useEchoService(): TcpService {
  return startedForFile('the echo service', () => startEchoService(), (service) => service.close());
}

/** The appliance's sshd on 22. */
export function useApplianceSshd(): TcpService {
  return startedForFile('the appliance sshd', () => startApplianceSshd(), (service) => service.close());
}
