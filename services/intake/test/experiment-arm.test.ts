import { createTestDatabase, type TestDatabase } from '@dibs/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentArm, experimentArmSql, experimentPoint } from '../src/domain/experiment-arm.js';

// The experiment assignment (CONTRACT §7): a deterministic, weighted hash of (customer, key).
// The pure function is the definition; the booking statement runs its SQL twin, and the two must
// pick the same arm for every customer, key and weights.

const SEED = 20_261_130;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const key = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
/** Weights as an admin gives them: small integers, or any positive number the API takes. */
const weight = fc.oneof(
  fc.integer({ min: 1, max: 100 }),
  fc.double({ min: 1e-6, max: 1_000_000, noNaN: true, noDefaultInfinity: true }).filter((w) => w > 0),
);
const arms = fc
  .array(weight, { minLength: 2, maxLength: 4 })
  .map((ws) => ws.map((w, i) => ({ name: `arm-${i}`, window_minutes: i + 1, weight: w })));

describe('the arm of a customer', () => {
  it('is the same in SQL as in the pure function, for any customer, key and weights', async () => {
    // The SQL exactly as the booking statement embeds it, over parameters instead of columns.
    const text = `select ${experimentArmSql('$1::uuid', '$2::text', '$3::jsonb')} ->> 'name' as arm`;
    await fc.assert(
      fc.asyncProperty(fc.uuid(), key, arms, async (customer, k, a) => {
        const { rows } = await db.query<{ arm: string }>(text, [customer, k, JSON.stringify(a)]);
        expect(rows[0]?.arm).toBe(experimentArm(customer, k, a).name);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('is the same every time for the same customer and key', () => {
    fc.assert(
      fc.property(fc.uuid(), key, arms, (customer, k, a) => {
        const first = experimentArm(customer, k, a);
        for (let i = 0; i < 5; i++) expect(experimentArm(customer, k, structuredClone(a))).toEqual(first);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('reads the first 13 hex digits of sha256(customer ":" key) as a point on [0, 1)', () => {
    // A fixed vector, computed apart from this code (`printf %s '<customer>:window-length' |
    // sha256sum` gives 8f2b6ab09c36e…): another implementation of the contract must agree, and a
    // change here would move customers to other arms mid-experiment.
    const customer = '6f1c2a9e-0b7d-4c55-9a43-1e2f3d4c5b6a';
    expect(experimentPoint(customer, 'window-length')).toBe(0x8f2b6ab09c36e / 2 ** 52);
    // ≈ 0.5592: past a quarter, before three quarters, so [1, 2, 1] puts this customer in the second arm.
    const arms121 = [1, 2, 1].map((weight, i) => ({ name: `arm-${i}`, window_minutes: 5, weight }));
    expect(experimentArm(customer, 'window-length', arms121).name).toBe('arm-1');
    fc.assert(
      fc.property(fc.uuid(), key, (customer, k) => {
        const u = experimentPoint(customer, k);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('is the first arm whose cumulative share of the weights exceeds the point', () => {
    fc.assert(
      fc.property(fc.uuid(), key, arms, (customer, k, a) => {
        const u = experimentPoint(customer, k);
        const total = a.reduce((s, arm) => s + arm.weight, 0);
        const chosen = a.indexOf(experimentArm(customer, k, a));
        const before = a.slice(0, chosen).reduce((s, arm) => s + arm.weight, 0);
        expect(before / total).toBeLessThanOrEqual(u);
        expect((before + (a[chosen]?.weight ?? 0)) / total).toBeGreaterThan(u);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('the split over many customers', () => {
  // Each arm's count is Binomial(N, p) with p its share of the weights: within Z standard
  // deviations sqrt(N p (1 - p)) of N p. With Z = 4.5 a correct hash fails one arm's check with
  // probability ~7e-6 (two-sided normal tail); the customers come from a fixed seed, so the
  // outcome is the same on every run.
  const N = 20_000;
  const Z = 4.5;
  const customers = fc.sample(fc.uuid(), { seed: SEED, numRuns: N });

  it.each([
    { key: 'window-length', weights: [1, 2, 1] },
    { key: 'short-vs-long', weights: [3, 1] },
    { key: 'four_ways', weights: [0.1, 0.2, 0.3, 0.4] },
  ])('matches the weights $weights within 4.5 binomial standard deviations ($key)', ({ key: k, weights }) => {
    const a = weights.map((w, i) => ({ name: `arm-${i}`, window_minutes: 5, weight: w }));
    const counts = new Map(a.map((arm) => [arm.name, 0]));
    for (const customer of customers) {
      const { name } = experimentArm(customer, k, a);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const total = weights.reduce((s, w) => s + w, 0);
    for (const arm of a) {
      const p = arm.weight / total;
      const sd = Math.sqrt(N * p * (1 - p));
      expect(
        Math.abs((counts.get(arm.name) ?? 0) - N * p),
        `${arm.name}: ${counts.get(arm.name)} of ${N}`,
      ).toBeLessThan(Z * sd);
    }
  });

  it('assigns independently per experiment: a customer in one arm of one key is spread over the next', () => {
    const a = [1, 1].map((w, i) => ({ name: `arm-${i}`, window_minutes: 5, weight: w }));
    const inFirst = customers.filter((c) => experimentArm(c, 'first', a).name === 'arm-0');
    const alsoFirst = inFirst.filter((c) => experimentArm(c, 'second', a).name === 'arm-0').length;
    const sd = Math.sqrt(inFirst.length * 0.25);
    expect(Math.abs(alsoFirst - inFirst.length / 2)).toBeLessThan(Z * sd);
  });
});
