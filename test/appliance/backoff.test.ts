// Reconnect delays: a fast first retry, exponential growth, jitter, and a cap.
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../appliance/backoff.js';

describe('jittered backoff', () => {
  it('waits 100–300 ms before the first retry', () => {
    expect(backoffDelay(0, () => 0)).toBe(100);
    expect(backoffDelay(0, () => 0.999_999_9)).toBeLessThan(300);
    for (let i = 0; i < 1_000; i += 1) {
      const d = backoffDelay(0);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThan(300);
    }
  });

  it('doubles the centre of the range with each attempt', () => {
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, () => 0.5))).toEqual([200, 400, 800, 1_600, 3_200]);
  });

  it('never reaches the 30 s cap, however many attempts, and stays jittered there', () => {
    const late = new Set<number>();
    for (const attempt of [10, 20, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      for (let i = 0; i < 200; i += 1) {
        const d = backoffDelay(attempt);
        expect(d).toBeLessThan(DEFAULT_BACKOFF.capMs);
        expect(d).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.capMs / 3);
        late.add(d);
      }
    }
    expect(late.size).toBeGreaterThan(100); // spread out, not lock-step
  });

  it('spreads a crowd of appliances retrying at once', () => {
    const delays = Array.from({ length: 500 }, () => backoffDelay(3));
    const buckets = new Set(delays.map((d) => Math.floor(d / 100)));
    expect(buckets.size).toBeGreaterThan(10);
  });
});
