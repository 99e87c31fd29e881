// Polling with a deadline, for conditions no event announces (a mail stored, a state in Redis).

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs?: number; label?: string; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.label ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/** Lets time pass to show that something does NOT happen (a second mail, a late close). */
export function settle(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
