import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAVORITES_PRIORITY_FLAG, type FlagState, flagEnabledFor, rolloutBucket } from '../src/domain/feature-flag.js';

const flag = (over: Partial<FlagState> = {}): FlagState => ({
  flag_key: FAVORITES_PRIORITY_FLAG,
  is_enabled: true,
  enabled_for_roles: ['admin', 'customer'],
  rollout_percentage: 100,
  ...over,
});

describe('flagEnabledFor', () => {
  const customer = '0d6f8a52-55c1-4d1a-9a3e-8f0f3c6b2a10';

  it('is on for customers when enabled for the customer role at 100 %', () => {
    expect(flagEnabledFor(flag(), 'customer', customer)).toBe(true);
  });

  it('is off when disabled, missing, or not enabled for customers', () => {
    expect(flagEnabledFor(flag({ is_enabled: false }), 'customer', customer)).toBe(false);
    expect(flagEnabledFor(null, 'customer', customer)).toBe(false);
    expect(flagEnabledFor(flag({ enabled_for_roles: ['admin'] }), 'customer', customer)).toBe(false);
    expect(flagEnabledFor(flag({ enabled_for_roles: [] }), 'customer', customer)).toBe(false);
  });

  it('is off for everyone at 0 %', () => {
    fc.assert(fc.property(fc.uuid(), (id) => !flagEnabledFor(flag({ rollout_percentage: 0 }), 'customer', id)));
  });

  it('puts a customer in the rollout exactly when their bucket is below the percentage', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 0, max: 100 }), (id, pct) => {
        const bucket = rolloutBucket(FAVORITES_PRIORITY_FLAG, id);
        return flagEnabledFor(flag({ rollout_percentage: pct }), 'customer', id) === bucket < pct;
      }),
    );
  });

  it('only ever adds customers as the percentage grows', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (id, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return (
          !flagEnabledFor(flag({ rollout_percentage: lo }), 'customer', id) ||
          flagEnabledFor(flag({ rollout_percentage: hi }), 'customer', id)
        );
      }),
    );
  });
});

describe('rolloutBucket', () => {
  it('is stable and within 0..99', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const b = rolloutBucket(FAVORITES_PRIORITY_FLAG, id);
        return Number.isInteger(b) && b >= 0 && b < 100 && b === rolloutBucket(FAVORITES_PRIORITY_FLAG, id);
      }),
    );
  });

  it('depends on the flag key, so two flags roll out to different customers', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const differ = ids.filter((id) => rolloutBucket('A', id) !== rolloutBucket('B', id));
    expect(differ.length).toBeGreaterThan(300);
  });

  it('spreads customers evenly: about half are in a 50 % rollout', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const inside = ids.filter((id) => rolloutBucket(FAVORITES_PRIORITY_FLAG, id) < 50).length;
    expect(inside).toBeGreaterThan(4700);
    expect(inside).toBeLessThan(5300);
  });
});
