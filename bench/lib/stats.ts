// Small statistics over samples: median and nearest-rank percentiles.

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A latency figure as the reports print it: every sample, and its p50 and p99. */
export interface LatencySummary {
  samples: number[];
  p50: number;
  p99: number;
}

export function summarize(samples: number[]): LatencySummary {
  return { samples, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}
