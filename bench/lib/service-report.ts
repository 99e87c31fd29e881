// The appliance-service benchmark's rows in the printed table (against issue 9's goals and the
// figures before the service existed) and its context lines: where the remaining milliseconds go.
import type { ServiceBenchResult, Summary } from '../appliance-service.bench.js';
import type { Row } from './report-row.js';

export const SERVICE_GOALS = {
  /** Issue 9: click or `ktether enable` (service running) → first engineer byte, p50 and p99. */
  p50Ms: 300,
  p99Ms: 1_000,
  /** Issue 9: 50 appliances' services clicked at once, p99. */
  fleetP99Ms: 3_000,
} as const;

/** Before the service (README, issue 9): `ktether enable --key` p50 808 / p99 869 ms; one-click p50 1842 / p99 2427 ms. */
export const BEFORE_SERVICE = { keyP50: 808, keyP99: 869, oneClickP50: 1_842, oneClickP99: 2_427 } as const;

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const pair = (s: Summary) => `${ms(s.p50)} / ${ms(s.p99)}`;
const met = (s: Summary) => (Number.isFinite(s.p99) ? (s.p50 < SERVICE_GOALS.p50Ms && s.p99 < SERVICE_GOALS.p99Ms ? 'yes' : 'no') : 'n/a');
const times = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

export function serviceRows(s: ServiceBenchResult | undefined): Row[] {
  if (!s) return [];
  const goal = `p50 < ${SERVICE_GOALS.p50Ms}, p99 < ${SERVICE_GOALS.p99Ms}`;
  const key = `${BEFORE_SERVICE.keyP50} / ${BEFORE_SERVICE.keyP99} (no service); now ${pair(s.baselineKey)}`;
  const oneClick = `${BEFORE_SERVICE.oneClickP50} / ${BEFORE_SERVICE.oneClickP99} (no service); now ${pair(s.baselineOneClick)}`;
  return [
    [`Key flow: \`ktether enable --key\` (service running) → first engineer byte, p50 / p99 ms (${s.runs} runs)`, pair(s.cliKey), key, times(s.cliKey.p50, s.baselineKey.p50), goal, met(s.cliKey)],
    [`Key flow: click Enable on the Tether page (Chromium) → first engineer byte, p50 / p99 ms (${s.runs} runs)`, pair(s.clickKey), key, times(s.clickKey.p50, s.baselineKey.p50), goal, met(s.clickKey)],
    [`One-click: \`ktether enable --description\` (service running) → first engineer byte, p50 / p99 ms (${s.runs} runs)`, pair(s.cliOneClick), oneClick, times(s.cliOneClick.p50, s.baselineOneClick.p50), goal, met(s.cliOneClick)],
    [`One-click: click Enable Tether on the page (Chromium) → first engineer byte, p50 / p99 ms (${s.runs} runs)`, pair(s.clickOneClick), oneClick, times(s.clickOneClick.p50, s.baselineOneClick.p50), goal, met(s.clickOneClick)],
    [
      `${s.fleet} appliances' services clicked at once (one-click form POST): first byte p50 / p99 ms`,
      pair(s.fleetFirstByte),
      'one-click CLI, 50 at once before: 44766 / 45597',
      '',
      `p99 < ${SERVICE_GOALS.fleetP99Ms}`,
      Number.isFinite(s.fleetFirstByte.p99) ? (s.fleetFirstByte.p99 < SERVICE_GOALS.fleetP99Ms ? 'yes' : 'no') : 'n/a',
    ],
    ['Informational: `ktether enable` returned / the page showed CONNECTED, key flow, p50 / p99 ms', `${pair(s.cliKeyExit)}; ${pair(s.clickKeyShown)}`, '', '', '', ''],
    ['Informational: the same, one-click', `${pair(s.cliOneClickExit)}; ${pair(s.clickOneClickShown)}`, '', '', '', ''],
  ];
}

const steps = (x: Record<string, number>) =>
  ['apiMs', 'keyMs', 'accountMs', 'kexMs', 'loginMs', 'forwardsMs', 'escrowMs', 'totalMs', 'cpuMs'].filter((k) => x[k] !== undefined).map((k) => `${k.replace(/Ms$/, '')} ${x[k]!.toFixed(0)}`).join(', ');

export function serviceContext(s: ServiceBenchResult | undefined): string[] {
  if (!s) return [];
  return [
    `appliance service: inside the service, medians ms, key flow: ${steps(s.stepsKey)}; one-click: ${steps(s.stepsOneClick)}; ` +
      `a CLI process (node ktether.js --version, spawn → exit) p50 ${ms(s.cliStartP50)} ms`,
    `appliance service, ${s.fleet} clicked at once: last appliance reachable after ${ms(s.fleetAllReadyMs)} ms; inside each service, medians: ${steps(s.stepsFleet)}; maxima: ${steps(s.stepsFleetMax)}`,
    `appliance service runs ms (first byte): CLI key ${s.cliKey.samples.map(ms).join(', ')}; click key ${s.clickKey.samples.map(ms).join(', ')}; ` +
      `CLI one-click ${s.cliOneClick.samples.map(ms).join(', ')}; click one-click ${s.clickOneClick.samples.map(ms).join(', ')}; ` +
      `no service (${s.baselineRuns} each): key ${s.baselineKey.samples.map(ms).join(', ')}, one-click ${s.baselineOneClick.samples.map(ms).join(', ')}`,
  ];
}
