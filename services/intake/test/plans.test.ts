import { tableChecksums } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// Plans and their prices (CONTRACT §7): PUT creates (201) or replaces (200) a plan keyed by the
// plan_code bookings carry; money is integer cents of one ISO 4217 currency.

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake({ relay: false });
});
afterAll(async () => {
  await h?.close();
});

const admin = () => bearer(h.adminToken);
const put = (code: string, payload: object) =>
  h.intake.app.inject({ method: 'PUT', url: `/v1/admin/plans/${code}`, headers: admin(), payload });
const list = () => h.intake.app.inject({ method: 'GET', url: '/v1/admin/plans', headers: admin() });

describe('plans', () => {
  it('creates a plan (201), replaces it (200), and lists every plan by code', async () => {
    const created = await put('premium', { name: 'Premium', price_cents: 4900, currency: 'EUR' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      code: 'premium',
      name: 'Premium',
      price_cents: 4900,
      currency: 'EUR',
      updated_at: expect.stringMatching(/Z$/),
    });
    const replaced = await put('premium', { name: 'Premium+', price_cents: 5900, currency: 'USD' });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ code: 'premium', name: 'Premium+', price_cents: 5900, currency: 'USD' });
    expect(Date.parse(replaced.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(created.json().updated_at));
    expect((await put('basic', { name: 'Basic', price_cents: 0, currency: 'EUR' })).statusCode).toBe(201);

    const all = await list();
    expect(all.statusCode).toBe(200);
    expect(all.json().map((p: { code: string }) => p.code)).toEqual(['basic', 'premium']);
    expect(all.json()[1]).toEqual(replaced.json());
    const { rows } = await h.db.query('select code, name, price_cents, currency from plans order by code');
    expect(rows).toEqual([
      { code: 'basic', name: 'Basic', price_cents: 0, currency: 'EUR' },
      { code: 'premium', name: 'Premium+', price_cents: 5900, currency: 'USD' },
    ]);
  });

  it('takes any code a booking may carry as plan_code, URL-encoded', async () => {
    const res = await put(encodeURIComponent('Gold Plan/2026'), { name: 'Gold', price_cents: 12_345, currency: 'GBP' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ code: 'Gold Plan/2026' });
  });

  const cases: [string, string, object, string, string][] = [
    ['a negative price', 'p', { name: 'P', price_cents: -1, currency: 'EUR' }, 'body', 'price_cents'],
    ['a fractional price', 'p', { name: 'P', price_cents: 9.99, currency: 'EUR' }, 'body', 'price_cents'],
    ['a price beyond integer', 'p', { name: 'P', price_cents: 2 ** 31, currency: 'EUR' }, 'body', 'price_cents'],
    ['a price as text', 'p', { name: 'P', price_cents: '100', currency: 'EUR' }, 'body', 'price_cents'],
    ['a lower-case currency', 'p', { name: 'P', price_cents: 1, currency: 'eur' }, 'body', 'currency'],
    ['a four-letter currency', 'p', { name: 'P', price_cents: 1, currency: 'EURO' }, 'body', 'currency'],
    ['no currency', 'p', { name: 'P', price_cents: 1 }, 'body', 'currency'],
    ['an empty name', 'p', { name: ' ', price_cents: 1, currency: 'EUR' }, 'body', 'name'],
    ['a code with a space at its end', 'p%20', { name: 'P', price_cents: 1, currency: 'EUR' }, 'params', 'code'],
    ['an unknown field', 'p', { name: 'P', price_cents: 1, currency: 'EUR', tax: 1 }, 'body', ''],
  ];
  it.each(cases)('%s: 400 naming the field, nothing written', async (_what, code, payload, where, field) => {
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await put(code, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (field) expect(res.json().errors).toContainEqual(expect.objectContaining({ in: where, field }));
    expect(await sums()).toEqual(before);
  });

  it('plain SQL cannot store what the API refuses', async () => {
    const insert = (code: string, name: string, price: number, currency: string) =>
      h.db.query('insert into plans (code, name, price_cents, currency) values ($1, $2, $3, $4)', [
        code,
        name,
        price,
        currency,
      ]);
    await expect(insert('neg', 'N', -1, 'EUR')).rejects.toThrow(/check/);
    await expect(insert('cur', 'C', 1, 'eur')).rejects.toThrow(/check/);
    await expect(insert(' padded', 'C', 1, 'EUR')).rejects.toThrow(/check/);
    await expect(insert('blank', '', 1, 'EUR')).rejects.toThrow(/check/);
  });
});
