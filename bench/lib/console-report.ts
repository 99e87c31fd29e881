// The console benchmark's rows in the printed table (against issue 8's goals) and its context lines.
import type { ConsoleBenchResult } from '../console.bench.js';
import { type Row, fixed as ms } from './report-row.js';

export const CONSOLE_GOALS = {
  /** Issue 8: the console's first page of sessions over 10,000 in under 100 ms. */
  listMs: 100,
  /** Issue 8: 100 watching browsers at 500 transitions/s, delivery p99 under 1 s. */
  sseP99Ms: 1_000,
} as const;

export function consoleRows(c: ConsoleBenchResult | undefined): Row[] {
  if (!c) return [];
  const s = c.sse;
  const complete = s.delivered === s.expected;
  return [
    [
      `Console first page (50) of ${c.sessions.toLocaleString('en-US')} sessions, GET /v1/sessions, p50 / p99 ms (${c.list.count} requests, personal token)`,
      `${ms(c.list.p50)} / ${ms(c.list.p99)}`,
      '',
      '',
      `< ${CONSOLE_GOALS.listMs}`,
      c.list.p99 < CONSOLE_GOALS.listMs ? 'yes' : 'no',
    ],
    [`Informational, the same with a filter nothing matches (scans 5,000, answers a cursor), p50 / p99 ms`, `${ms(c.listFilteredMiss.p50)} / ${ms(c.listFilteredMiss.p99)}`, '', '', '', ''],
    [
      `SSE fan-out: ${s.clients} /v1/events streams at ${s.rate} transitions/s (${s.applied} applied), store call → frame read, p50 / p99 ms`,
      `${ms(s.latency.p50)} / ${ms(s.latency.p99)}${complete ? '' : ` (${s.expected - s.delivered} of ${s.expected} frames missing)`}`,
      '',
      '',
      `p99 < ${CONSOLE_GOALS.sseP99Ms}`,
      complete && s.latency.p99 < CONSOLE_GOALS.sseP99Ms ? 'yes' : 'no',
    ],
  ];
}

export function consoleContext(c: ConsoleBenchResult | undefined): string[] {
  if (!c) return [];
  const s = c.sse;
  return [
    `console list: ${c.sessions} sessions seeded in ${ms(c.seedSeconds)} s; first page ${c.list.bytes} bytes; max ${ms(c.list.max)} ms; filter miss max ${ms(c.listFilteredMiss.max)} ms; uptime: ${c.uptimeList}`,
    `console fan-out: ${s.delivered}/${s.expected} frames; applied ${ms(s.appliedRate, 0)} transitions/s; max ${ms(s.latency.max)} ms; store call answered p99 ${ms(s.applyP99)} ms; ` +
      `CPU api ${ms(s.serverCpuSeconds, 2)} s, Redis ${ms(s.redisCpuSeconds, 2)} s, bench (streams + driver) ${ms(s.benchCpuSeconds, 2)} s over ${s.seconds} s; uptime: ${c.uptimeSse}`,
  ];
}
