// The console's two loads (issue 8), on the production api (dist/scripts/serve.js --roles api) over
// a private Redis, with a real personal token (a viewer made through the OperatorStore):
//   list   N sessions seeded through the SessionStore (ticket and subject each); the console's first
//          page, GET /v1/sessions?limit=50, asked R times one after the other over keep-alive.
//   fan-out  C clients hold GET /v1/events while sessions are activated through the SessionStore at
//          a fixed rate (open loop: transition k at start + k/rate); each client's receipt of each
//          transition is timed from just before the store call.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { loadavg } from 'node:os';
import { newId } from '../shared/session/issue-key.js';
import { OperatorStore } from '../shared/store/operator.store.js';
import { RedisSessionStore } from '../shared/store/redis-session.store.js';
import { startPipelineStack } from './lib/pipeline-server.js';
import { cpuSeconds } from './lib/proc.js';
import { percentile } from './lib/stats.js';

export interface ConsoleBenchOptions {
  /** Sessions in Redis when the list is asked for. */
  sessions: number;
  /** Timed requests for the first page (after 20 not counted). */
  listRequests: number;
  /** Open /v1/events streams. */
  sseClients: number;
  /** Transitions applied per second through the session store. */
  transitionsPerSecond: number;
  seconds: number;
  log: (line: string) => void;
}

export interface LatencyFigures {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ConsoleBenchResult {
  sessions: number;
  seedSeconds: number;
  pageSize: number;
  /** GET /v1/sessions?limit=50, ms from request to the last byte. */
  list: LatencyFigures & { bytes: number };
  /** The same with a filter nothing matches (?serial=…): the bounded scan of 5,000 records, then a cursor. */
  listFilteredMiss: LatencyFigures;
  sse: {
    clients: number;
    rate: number;
    seconds: number;
    /** Transitions applied (each a store call that succeeded). */
    applied: number;
    /** Achieved rate of applied transitions, per second. */
    appliedRate: number;
    /** Every client × every applied transition. */
    expected: number;
    delivered: number;
    /** Store call → frame read by the client, ms. */
    latency: LatencyFigures;
    /** Store call → answered (the transition is in Redis and published), ms. */
    applyP99: number;
    serverCpuSeconds: number;
    redisCpuSeconds: number;
    benchCpuSeconds: number;
  };
  /** `uptime` during the list phase and in the middle of the fan-out. */
  uptimeList: string;
  uptimeSse: string;
}

const PAGE = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function figures(samples: number[]): LatencyFigures {
  return { count: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: percentile(samples, 100) };
}

function uptime(): string {
  try {
    return execFileSync('uptime').toString().trim();
  } catch {
    return `load average: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
  }
}

interface Watcher {
  req: ClientRequest;
  /** Resolves once the stream's first bytes (`retry: 2000`) arrived. */
  ready: Promise<void>;
}

/** One /v1/events client: finds each frame's sid with indexOf (no JSON parse) and reports its arrival. */
function watch(apiUrl: string, token: string, onFrame: (sid: string, at: number) => void): Watcher {
  let opened: () => void;
  let failed: (err: Error) => void;
  const ready = new Promise<void>((ok, fail) => ((opened = ok), (failed = fail)));
  const req = httpRequest(`${apiUrl}/v1/events`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
    if (res.statusCode !== 200) return failed(new Error(`GET /v1/events answered ${res.statusCode}`));
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      const at = performance.now();
      buffer += chunk;
      opened();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const i = frame.indexOf('"sid":"');
        if (i >= 0) onFrame(frame.slice(i + 7, frame.indexOf('"', i + 7)), at);
      }
    });
  });
  req.on('error', (err) => failed(err));
  req.end();
  return { req, ready };
}

export async function benchConsole(o: ConsoleBenchOptions): Promise<ConsoleBenchResult> {
  const transitions = Math.min(o.sessions, Math.round(o.transitionsPerSecond * o.seconds));
  if (transitions < o.transitionsPerSecond * o.seconds) o.log(`console: only ${o.sessions} sessions to activate: the fan-out phase runs ${transitions} transitions`);
  const stack = await startPipelineStack({ processes: ['api'] });
  const watchers: Watcher[] = [];
  try {
    if (!stack.apiUrl) throw new Error('serve.js --roles api printed no api URL');
    const sessions = new RedisSessionStore(stack.redis, stack.prefix);
    const { token } = await new OperatorStore(stack.redis, stack.prefix).add('bench-viewer', 'viewer', 'bench', Date.now());

    // Seed: N ISSUED sessions with a ticket and its subject, issue times one second apart.
    const seedStart = performance.now();
    const ids: string[] = [];
    const base = Date.now() - o.sessions * 1000;
    for (let i = 0; i < o.sessions; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(o.sessions, i + 200); j++) {
        const id = newId();
        ids.push(id);
        const issuedAt = base + j * 1000;
        batch.push(
          sessions.create(
            {
              id,
              jti: newId(),
              serial: `CB-${String(j).padStart(6, '0')}`,
              product: j % 2 ? 'sda' : 'sma',
              version: '10.2',
              ports: [22, 80, 443],
              tunnelPub: randomBytes(32),
              issuedAt,
              expiresAt: issuedAt + 7 * 86_400_000,
              ticket: { system: 'zendesk', id: String(100_000 + j) },
              ticketSubject: `Inventory page is blank after the upgrade (${j})`,
              email: `it-${j}@customer.example`,
            },
            'bench',
          ),
        );
      }
      await Promise.all(batch);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    o.log(`console: ${o.sessions} sessions seeded in ${seedSeconds.toFixed(1)} s`);

    // The first page, as the console asks for it.
    const get = async (path: string) => {
      const t0 = performance.now();
      const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${body.slice(0, 200)}`);
      return { ms, body };
    };
    for (let i = 0; i < 20; i++) await get(`/v1/sessions?limit=${PAGE}`);
    const listMs: number[] = [];
    let bytes = 0;
    let uptimeList = '';
    for (let i = 0; i < o.listRequests; i++) {
      const { ms, body } = await get(`/v1/sessions?limit=${PAGE}`);
      listMs.push(ms);
      if (i === 0) {
        const page = JSON.parse(body) as { sessions: unknown[] };
        if (page.sessions.length !== Math.min(PAGE, o.sessions)) throw new Error(`first page has ${page.sessions.length} sessions`);
        bytes = Buffer.byteLength(body);
      }
      if (i === Math.floor(o.listRequests / 2)) uptimeList = uptime();
    }
    const missMs: number[] = [];
    for (let i = 0; i < Math.max(10, Math.floor(o.listRequests / 10)); i++) missMs.push((await get(`/v1/sessions?limit=${PAGE}&serial=NO-SUCH-SERIAL`)).ms);
    o.log(`console: first page p50 ${percentile(listMs, 50).toFixed(1)} ms, p99 ${percentile(listMs, 99).toFixed(1)} ms over ${listMs.length} requests`);

    // Fan-out: C streams, then activations at the given rate.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let delivered = 0;
    const onFrame = (sid: string, at: number) => {
      const t0 = sentAt.get(sid);
      if (t0 === undefined) return;
      delivered++;
      latencies.push(at - t0);
    };
    for (let i = 0; i < o.sseClients; i++) watchers.push(watch(stack.apiUrl, token, onFrame));
    await Promise.all(watchers.map((w) => w.ready));
    o.log(`console: ${watchers.length} event streams open; ${transitions} activations at ${o.transitionsPerSecond}/s`);

    const serverPid = stack.servers[0]!.pid;
    const cpu0 = { server: cpuSeconds(serverPid), redis: stack.redisCpuSeconds(), bench: process.cpuUsage() };
    const applyMs: number[] = [];
    const pending: Promise<void>[] = [];
    let applied = 0;
    let uptimeSse = '';
    const start = performance.now();
    for (let k = 0; k < transitions; ) {
      const due = Math.min(transitions, Math.floor(((performance.now() - start) * o.transitionsPerSecond) / 1000) + 1);
      for (; k < due; k++) {
        const sid = ids[k]!;
        const t0 = performance.now();
        sentAt.set(sid, t0);
        pending.push(
          sessions.activate(sid, randomBytes(32), { actor: 'bench', relayId: 'bench-relay', now: Date.now() }).then(() => {
            applied++;
            applyMs.push(performance.now() - t0);
          }),
        );
      }
      if (!uptimeSse && performance.now() - start > (o.seconds * 1000) / 2) uptimeSse = uptime();
      await sleep(2);
    }
    await Promise.all(pending);
    const appliedSeconds = (performance.now() - start) / 1000;
    const expected = applied * watchers.length;
    const deadline = Date.now() + 5_000;
    while (delivered < expected && Date.now() < deadline) await sleep(20);
    const benchCpu = process.cpuUsage(cpu0.bench);
    const result: ConsoleBenchResult = {
      sessions: o.sessions,
      seedSeconds,
      pageSize: PAGE,
      list: { ...figures(listMs), bytes },
      listFilteredMiss: figures(missMs),
      sse: {
        clients: watchers.length,
        rate: o.transitionsPerSecond,
        seconds: o.seconds,
        applied,
        appliedRate: applied / appliedSeconds,
        expected,
        delivered,
        latency: figures(latencies),
        applyP99: percentile(applyMs, 99),
        serverCpuSeconds: cpuSeconds(serverPid) - cpu0.server,
        redisCpuSeconds: stack.redisCpuSeconds() - cpu0.redis,
        benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      },
      uptimeList,
      uptimeSse: uptimeSse || uptime(),
    };
    o.log(`console: fan-out delivered ${delivered}/${expected}, p50 ${result.sse.latency.p50.toFixed(1)} ms, p99 ${result.sse.latency.p99.toFixed(1)} ms`);
    return result;
  } finally {
    for (const w of watchers) w.req.destroy();
    await stack.close();
  }
}
