// The relay-cores benchmark's rows in the printed table (issue 11: a relay process per core) and
// its context lines. There is no goal to meet: the figures say what the second core gives here.
import type { CoresRound, RelayCoresResult } from '../relay-cores.bench.js';
import { median } from './stats.js';
import { type Row, fixed as f } from './report-row.js';

const crossed = (rounds: CoresRound[]) => rounds.map((r) => `${r.crossed}/${r.channels}`).join(', ');

/** 2-process rounds grouped by how many channels crossed: where each engineer lands is the primary's
 * turn-taking, so the median over all rounds depends on that draw; the groups show each case. */
function byCrossings(rounds: CoresRound[]): string {
  const groups = new Map<number, number[]>();
  for (const r of rounds) groups.set(r.crossed, [...(groups.get(r.crossed) ?? []), r.mbps]);
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, mbps]) => `${n} crossed: ${f(median(mbps))} MB/s (${mbps.length} round${mbps.length > 1 ? 's' : ''})`)
    .join('; ');
}

export function relayCoresRows(r: RelayCoresResult | undefined): Row[] {
  if (!r) return [];
  return r.cases.flatMap((c): Row[] => [
    [
      `Relay per core: ${c.streams} engineer streams × ${r.streamMiB} MiB at once, aggregate MB/s, 1 process / 2 processes (median of ${r.runs})`,
      `${f(c.one.medianMbps)} / ${f(c.two.medianMbps)} (${f(c.ratio, 2)}×)`,
      '',
      '',
      '',
      '',
    ],
    [
      `… relay CPU-s per GiB, 1 process / 2 processes (all relay processes + primary)`,
      `${f(c.one.medianRelayTotalCpuPerGiB, 2)} / ${f(c.two.medianRelayTotalCpuPerGiB, 2)}`,
      '',
      '',
      '',
      '',
    ],
    [`… engineer channels over the peer link (2 processes), per run`, crossed(c.two.rounds), '', '', '', ''],
    [`… 2 processes, aggregate MB/s by channels crossed (median of those rounds)`, byCrossings(c.two.rounds), '', '', '', ''],
    [`… machine cores busy during the transfer, 1 process / 2 processes`, `${f(c.one.medianBusyCores, 2)} / ${f(c.two.medianBusyCores, 2)}`, '', '', '', ''],
  ]);
}

function roundLine(x: CoresRound): string {
  const relays = x.relayCpuPerGiB.map((v) => f(v, 2)).join(' + ') + (x.primaryCpuPerGiB ? ` + primary ${f(x.primaryCpuPerGiB, 2)}` : '');
  return (
    `${f(x.mbps)} MB/s (${f(x.mbpsWithLogin)} with logins; streams ${x.streamMbps.map((v) => f(v, 0)).join('/')}), relay ${relays} CPU-s/GiB (${f(x.relayReadsPerMiB)} reads + ${f(x.relayWritesPerMiB)} writes per MiB), ` +
    `ssh ${f(x.engineerSshCpuPerGiB, 2)}, appliances ${f(x.applianceCpuPerGiB, 2)}, bench ${f(x.benchCpuPerGiB, 2)}; ${x.crossed}/${x.channels} crossed; ${f(x.busyCores, 2)} cores busy; load ${f(x.load1, 2)}`
  );
}

export function relayCoresContext(r: RelayCoresResult | undefined): string[] {
  if (!r) return [];
  const c = r.cipher ? (r.cipher.cs === r.cipher.sc ? r.cipher.cs : `${r.cipher.cs} / ${r.cipher.sc}`) : 'unknown';
  return [
    `relay cores: serve.js --roles relay with TETHER_RELAY_PROCESSES 1 and 2 side by side, rounds alternating; tunnels per relay process ${r.tunnelsPerProcess.one.join('/')} and ${r.tunnelsPerProcess.two.join('/')}; ` +
      `appliances in ${r.applianceProcesses} processes per shape (appliance leg ${c}); MB/s = Σ bytes ÷ (first byte at any sink → last byte at the last sink)`,
    ...r.cases.flatMap((k) =>
      [k.one, k.two].map((s) => `relay cores, ${k.streams} streams, ${s.processes} process${s.processes > 1 ? 'es' : ''}: ${s.rounds.map(roundLine).join(' | ')}`),
    ),
  ];
}
