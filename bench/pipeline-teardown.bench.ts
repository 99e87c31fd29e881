// Teardown: operator revoke (POST /v1/sessions/:id/revoke on the production API, with the workers
// running beside it) → the engineer's open channel to that appliance closed by the relay. The relay
// runs in its own process, the appliances (ssh2, the agent's dial settings) in another, the engineer
// (one ssh2 connection holding a channel per appliance) here. Revokes are sequential.
import { loadavg } from 'node:os';
import { startFleet, type FleetAppliance } from './lib/appliance-fleet.js';
import { startEchoServer } from './lib/echo-server.js';
import { connectHoldingEngineer, type HeldChannel } from './lib/pipeline-engineer.js';
import { ADMIN_TOKEN, startPipelineStack } from './lib/pipeline-server.js';
import { cpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { ENGINEER, startBenchTether, type IssuedSession } from './lib/tether-fixture.js';

export interface PipelineTeardownOptions {
  teardowns: number;
  /** Pause between one teardown finishing and the next revoke. */
  gapMs: number;
  log: (line: string) => void;
}

export interface PipelineTeardownResult {
  teardowns: number;
  measured: number;
  timeouts: number;
  /** Revoke request sent → engineer channel closed, ms. */
  revokeToCloseMs: number[];
  p50: number;
  p99: number;
  max: number;
  /** Revoke request sent → API answered 200, ms. */
  apiP50: number;
  apiP99: number;
  /** closedAt written by the CLOSED transition → engineer channel closed (relay reaction), ms. */
  transitionToCloseP50: number;
  transitionToCloseP99: number;
  relayCpuSeconds: number;
  load: string;
}

const SERVICE_PORT = 443;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchPipelineTeardown(o: PipelineTeardownOptions): Promise<PipelineTeardownResult> {
  const echo = await startEchoServer();
  const tether = await startBenchTether({ heartbeatFlushMs: 2_000 });
  const relay = { host: '127.0.0.1', port: tether.relayPort, fp: tether.hostKey.fingerprint };
  const stack = await startPipelineStack({
    processes: ['api,workers'],
    attach: { home: tether.home, prefix: tether.prefix, redisServer: tether.redisServer },
    env: { TETHER_RELAY_PORT: String(tether.relayPort) },
  });
  const fleet = startFleet(1, relay);
  let engineer: Awaited<ReturnType<typeof connectHoldingEngineer>> | undefined;
  try {
    const issued: IssuedSession[] = [];
    for (let i = 0; i < o.teardowns; i++) issued.push(await tether.issue(`TD-${String(i).padStart(5, '0')}`));
    const appliances: FleetAppliance[] = issued.map((s) => ({ serial: s.serial, privateKey: s.privateKey, port: SERVICE_PORT, target: echo.port }));
    const up = await fleet.connect(appliances, 20);
    if (up.failed) throw new Error(`${up.failed} appliances did not connect: ${up.errors.join(' | ')}`);
    engineer = await connectHoldingEngineer(relay, ENGINEER, tether.engineer.privateKey);
    const held: HeldChannel[] = [];
    for (const s of issued) held.push(await engineer.hold(s.serial, SERVICE_PORT));
    o.log(`pipeline-teardown: ${o.teardowns} appliances connected, ${held.length} engineer channels open and echoing`);

    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    const relayCpu0 = cpuSeconds(tether.relayPid);
    const revokeToClose: number[] = [];
    const api: number[] = [];
    const transitionToClose: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < issued.length; i++) {
      const s = issued[i] as IssuedSession;
      const ch = held[i] as HeldChannel;
      const t0 = performance.now();
      const res = await fetch(`${stack.apiUrl}/v1/sessions/${s.sid}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await res.json()) as { session?: { closedAt?: string } };
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`revoke of ${s.sid}: HTTP ${res.status} ${JSON.stringify(body)}`);
      api.push(t1 - t0);
      const closedAt = await Promise.race([ch.closed, sleep(10_000).then(() => undefined)]);
      if (closedAt === undefined) {
        timeouts++;
        continue;
      }
      revokeToClose.push(closedAt - t0);
      const transitionEpoch = body.session?.closedAt ? Date.parse(body.session.closedAt) : Number.NaN;
      transitionToClose.push(performance.timeOrigin + closedAt - transitionEpoch);
      if (o.gapMs > 0) await sleep(o.gapMs);
    }
    const relayCpuSeconds = cpuSeconds(tether.relayPid) - relayCpu0;
    const lateOpen = held.filter((h) => !h.isClosed()).length;
    if (lateOpen) o.log(`pipeline-teardown: ${lateOpen} engineer channels still open at the end`);
    return {
      teardowns: o.teardowns,
      measured: revokeToClose.length,
      timeouts,
      revokeToCloseMs: revokeToClose.map((x) => Math.round(x * 10) / 10),
      p50: percentile(revokeToClose, 50),
      p99: percentile(revokeToClose, 99),
      max: percentile(revokeToClose, 100),
      apiP50: percentile(api, 50),
      apiP99: percentile(api, 99),
      transitionToCloseP50: percentile(transitionToClose, 50),
      transitionToCloseP99: percentile(transitionToClose, 99),
      relayCpuSeconds,
      load,
    };
  } finally {
    engineer?.close();
    await fleet.close();
    await stack.close();
    await tether.close();
    await echo.close();
  }
}
