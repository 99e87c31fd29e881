// Parses the operator's TTL notation (`90s`, `2h`, `7d`, `12w`) and enforces the 12-week cap.
import { AppError } from './errors.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The longest life a tether key may have (design: "expiring within 12 weeks"). */
export const MAX_TTL_MS = 12 * UNIT_MS.w;

export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!m) throw new AppError('usage', `invalid duration "${text}": use a number with a unit s, m, h, d or w (e.g. 90s, 2h, 7d, 12w)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new AppError('usage', `invalid duration "${text}": must be greater than zero`);
  return ms;
}

/** Throws `ttl_too_long` for anything past the 12-week cap. */
export function checkTtl(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new AppError('usage', 'TTL must be greater than zero');
  if (ms > MAX_TTL_MS) throw new AppError('ttl_too_long', `TTL ${formatDuration(ms)} exceeds the 12-week maximum`);
  return ms;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', UNIT_MS.w], ['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
