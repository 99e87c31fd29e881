// Medians and maxima per named step over many timing records (the service's step timings).
import { median } from './stats.js';

type Steps = Record<string, number | null>;

function per(rows: Steps[], pick: (xs: number[]) => number): Record<string, number> {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.flatMap((k) => {
      const xs = rows.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
      return xs.length ? [[k, pick(xs)]] : [];
    }),
  );
}

export const medians = (rows: Steps[]) => per(rows, median);
export const maxima = (rows: Steps[]) => per(rows, (xs) => Math.max(...xs));
