import { describe, expect, it } from 'vitest';
import { roundPercent, wilsonInterval, wilsonPercent, Z_95 } from '../src/domain/wilson.js';

// The experiment report's 95 % interval: a pure function, checked against published values.

describe('the Wilson score interval', () => {
  it('matches the published 95 % intervals of Newcombe (1998), Table I, method 3, to 4 decimals', () => {
    // R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
    // seven methods", Statistics in Medicine 17 (1998) 857–872, Table I ("Score" without
    // continuity correction): the paper's worked examples.
    const published: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
      [29, 29, 0.883, 1],
    ];
    for (const [x, n, lo, hi] of published) {
      const [l, h] = wilsonInterval(x, n)!;
      expect(l, `lower bound of ${x}/${n}`).toBeCloseTo(lo, 4);
      expect(h, `upper bound of ${x}/${n}`).toBeCloseTo(hi, 4);
    }
  });

  it('gives the report’s percentages, rounded to 2 decimals, for 8/10, 0/10, 10/10 and 50/100', () => {
    // The same formula's values, each also pinned by a closed form that holds for it alone:
    // 0/n → [0, z²/(n+z²)], n/n → [n/(n+z²), 1], n/2 of n → symmetric around 50 %.
    expect(wilsonPercent(8, 10)).toEqual([49.02, 94.33]);
    expect(wilsonPercent(0, 10)).toEqual([0, 27.75]);
    expect(wilsonPercent(10, 10)).toEqual([72.25, 100]);
    expect(wilsonPercent(50, 100)).toEqual([40.38, 59.62]);
    const z2 = Z_95 * Z_95;
    expect(wilsonInterval(0, 10)![1]).toBeCloseTo(z2 / (10 + z2), 12);
    expect(wilsonInterval(10, 10)![0]).toBeCloseTo(10 / (10 + z2), 12);
    const [lo, hi] = wilsonInterval(50, 100)!;
    expect(lo + hi).toBeCloseTo(1, 12);
  });

  it('contains the observed rate and stays within [0, 1] for every count up to 60', () => {
    for (let n = 1; n <= 60; n++) {
      for (let x = 0; x <= n; x++) {
        const [lo, hi] = wilsonInterval(x, n)!;
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        expect(lo).toBeLessThanOrEqual(x / n);
        expect(hi).toBeGreaterThanOrEqual(x / n);
      }
    }
  });

  it('is null without a trial, never NaN', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonPercent(0, 0)).toBeNull();
    expect(wilsonInterval(3, 2)).toBeNull();
  });

  it('rounds a fraction to a percentage with 2 decimals', () => {
    expect(roundPercent(0.490_19)).toBe(49.02);
    expect(roundPercent(1)).toBe(100);
    expect(roundPercent(0)).toBe(0);
  });
});
