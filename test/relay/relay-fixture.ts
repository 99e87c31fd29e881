// One relay test file's world: the harness, its echo services and its engineers, started in one
// beforeAll and closed in one afterAll (the relay before the services it forwards to), named at
// module level through late-bound stand-ins; and a tunnel brought up the way the agent does it.
import { afterAll, beforeAll, inject } from 'vitest';
import { lateBound, type LateBound } from '../helpers/late-bound.js';
import {
  addEngineer,
  connectAppliance,
  forwardPorts,
  issue,
  startHarness,
  startService,
  waitFor,
  type Appliance,
  type EngineerKey,
  type Harness,
  type Issued,
} from './relay-harness.js';

export type EchoService = Awaited<ReturnType<typeof startService>>;
export type HarnessOptions = NonNullable<Parameters<typeof startHarness>[1]>;

export interface RelayFixture<S extends string, E extends string> {
  h: Harness;
  /** By name: a local service that sends its banner, then echoes. */
  services: Record<S, EchoService>;
  /** By name: a registered engineer with a key and the relay's host key pinned. */
  engineers: Record<E, EngineerKey>;
}

export function useRelay<S extends string = never, E extends string = never>(
  opts: { harness?: HarnessOptions; services?: Record<S, string>; engineers?: readonly E[] } = {},
): RelayFixture<S, E> {
  const banners = Object.entries(opts.services ?? {}) as [S, string][];
  const h = lateBound<Harness>('the relay harness');
  const services = banners.map(([name]) => [name, lateBound<EchoService>(`service ${name}`)] as const);
  const engineers = (opts.engineers ?? []).map((name) => [name, lateBound<EngineerKey>(`engineer ${name}`)] as const);
  let started: Harness | undefined;
  const running: EchoService[] = [];

  beforeAll(async () => {
    started = h.bind(await startHarness(inject('redisUrl'), opts.harness));
    for (const [name, svc] of services) running.push(svc.bind(await startService(banners.find(([n]) => n === name)![1])));
    for (const [name, eng] of engineers) eng.bind(await addEngineer(started, name));
  });

  afterAll(async () => {
    await started?.close();
    for (const svc of running) await svc.close();
    for (const stand of [h, ...services.map(([, s]) => s), ...engineers.map(([, e]) => e)] as LateBound<object>[]) stand.unbind();
  });

  return {
    h: h.ref,
    services: Object.fromEntries(services.map(([name, svc]) => [name, svc.ref])) as Record<S, EchoService>,
    engineers: Object.fromEntries(engineers.map(([name, eng]) => [name, eng.ref])) as Record<E, EngineerKey>,
  };
}

export interface Tunnel extends Issued {
  serial: string;
  sid: string;
  app: Appliance;
}

/**
 * Issues a key for `serial` allowing `ports` (default: the forwarded ones), logs in as its
 * appliance, forwards each port to its local target and waits until the session is CONNECTED.
 */
export async function openTunnel(h: Harness, serial: string, forward: Record<number, number>, ports = Object.keys(forward).map(Number)): Promise<Tunnel> {
  const issued = await issue(h, serial, { ports });
  const app = await connectAppliance(h, { serial, seed: issued.seed });
  await forwardPorts(app, forward);
  await waitFor(async () => (await h.sessions.get(issued.session.id))?.state === 'CONNECTED', 'CONNECTED');
  return { ...issued, serial, sid: issued.session.id, app };
}
