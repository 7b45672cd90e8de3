/** Percentile (0–100) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** p50/p99/max summary of a latency sample, in the sample's unit. */
export function summarize(values: number[]): { n: number; p50: number; p99: number; max: number } {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    // reduce, not Math.max(...values): spreading 100k+ values overflows the stack.
    max: values.length ? values.reduce((m, v) => Math.max(m, v)) : Number.NaN,
  };
}

/** `a / b` rounded to 2 decimals, as benchmarks print ratios against their baseline. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}
