/** The two-sided 95 % normal quantile, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

/**
 * The Wilson score interval of a binomial proportion (Wilson 1927; "method 3" in Newcombe 1998),
 * without continuity correction, as fractions in [0, 1]; null when there is no trial. Unlike the
 * normal (Wald) interval it stays inside [0, 1] and is not empty at 0 or n successes.
 *
 *   centre = (p + z²/2n) / (1 + z²/n),  half-width = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): [number, number] | null {
  if (!(trials > 0) || successes < 0 || successes > trials) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At 0 or n successes one bound is exactly 0 or 1; floating point would leave it 1e-17 off.
  const lo = successes === 0 ? 0 : Math.max(0, centre - half);
  const hi = successes === trials ? 1 : Math.min(1, centre + half);
  return [lo, hi];
}

/** The 95 % Wilson interval in percent, bounds rounded to 2 decimals as the report's rates. */
export function wilsonPercent(successes: number, trials: number): [number, number] | null {
  const interval = wilsonInterval(successes, trials);
  return interval && [roundPercent(interval[0]), roundPercent(interval[1])];
}

/** A fraction as a percentage rounded to 2 decimals. */
export function roundPercent(fraction: number): number {
  return Math.round(fraction * 10_000) / 100;
}
