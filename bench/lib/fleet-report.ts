// The fleet benchmark's rows in the printed table (against issue 10's goals) and its context lines.
import type { FleetBenchResult } from '../fleet.bench.js';
import { type Row, fixed as f } from './report-row.js';

export const FLEET_GOALS = {
  /** Issue 10: throughput through a peer relay at least 0.8× the direct path. */
  throughputRatio: 0.8,
  /** Issue 10: a peer adds less than 5 ms to a channel open (p50). */
  extraOpenP50Ms: 5,
} as const;

export function fleetRows(r: FleetBenchResult | undefined): Row[] {
  if (!r) return [];
  return [
    [`Fleet: engineer via a peer relay ÷ direct, MB/s (${r.sizeMiB} MiB, median of ${r.runs})`, `${f(r.ratio, 2)}× (${f(r.viaPeer.medianMbps)} / ${f(r.direct.medianMbps)})`, '', '', `≥ ${FLEET_GOALS.throughputRatio}×`, r.ratio >= FLEET_GOALS.throughputRatio ? 'yes' : 'no'],
    [`Fleet: CPU-s/GiB, direct (relay A) / via peer (A + B)`, `${f(r.direct.medianCpuPerGiB, 2)} / ${f(r.viaPeer.medianCpuPerGiB, 2)}`, '', '', '', ''],
    [
      `Fleet: channel open → first echo, p50 ms direct / via peer (extra), ${r.open.opens} opens each`,
      `${f(r.open.directP50, 2)} / ${f(r.open.viaPeerP50, 2)} (+${f(r.open.extraP50, 2)})`,
      '',
      '',
      `extra < ${FLEET_GOALS.extraOpenP50Ms}`,
      r.open.extraP50 < FLEET_GOALS.extraOpenP50Ms ? 'yes' : 'no',
    ],
  ];
}

export function fleetContext(r: FleetBenchResult | undefined): string[] {
  if (!r) return [];
  return [
    `fleet runs MB/s: direct ${r.direct.mbps.map((x) => f(x)).join(', ')}; via peer ${r.viaPeer.mbps.map((x) => f(x)).join(', ')}; ` +
      `open p99 ms: direct ${f(r.open.directP99, 2)}, via peer ${f(r.open.viaPeerP99, 2)}; shape: stock ssh -W → relay B → one peer link (ssh2, AES-GCM) → relay A → appliance (ssh2) → sink`,
  ];
}
