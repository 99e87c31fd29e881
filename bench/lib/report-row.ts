// A row of the printed results table, which every benchmark's report fills, and how a figure a run
// could not measure (NaN) is printed.
export type Row = [measure: string, result: string, baseline: string, vsBaseline: string, goal: string, met: string];

/** `x` to `digits` decimals, or `n/a` where the run did not measure it. */
export const fixed = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** A share (0.38) as a whole percentage (`38 %`), or `n/a` where the run did not measure it. */
export const percent = (share: number | undefined): string => (share !== undefined && Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : 'n/a');
