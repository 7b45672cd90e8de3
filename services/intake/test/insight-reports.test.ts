import {
  ANALYTICS_REPORT_SCHEMAS,
  type AnalyticsReport,
  type ExperimentReport,
  type MechanicStats,
  natsNames,
  type RevenueReport,
  type SuccessRateRow,
} from '@dibs/contracts';
import type { Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// The reports of CONTRACT §7 over HTTP: intake passes analytics' answer through (every field of
// the contract's schema), maps its refusals to problems (not_found → 404, mixed_currencies → 409)
// and refuses a bad query itself, before asking. Analytics is a stand-in on NATS here, answering
// what the test tells it to; analytics' own tests check the numbers.

let h: IntakeHarness;
const subs: Subscription[] = [];
/** The queries each report received, in order. */
const asked: Record<string, unknown[]> = {};
const answers: Partial<Record<AnalyticsReport, (query: Record<string, unknown>) => unknown>> = {};

beforeAll(async () => {
  h = await startIntake({ relay: false });
  const names = natsNames(h.prefix);
  for (const report of ['experiment', 'revenue', 'mechanic_stats', 'success_rate'] as const) {
    subs.push(
      h.nc.subscribe(names.subjects.analyticsReport(report), {
        callback: (_err, msg) => {
          const query = ANALYTICS_REPORT_SCHEMAS[report].query.parse(msg.json()) as Record<string, unknown>;
          asked[report] = [...(asked[report] ?? []), query];
          msg.respond(JSON.stringify(answers[report]?.(query) ?? { ok: false, code: 'unavailable' }));
        },
      }),
    );
  }
});
afterAll(async () => {
  for (const s of subs) s.unsubscribe();
  await h?.close();
});
beforeEach(() => {
  for (const k of Object.keys(asked)) delete asked[k];
});

const admin = () => bearer(h.adminToken);
const get = (url: string, token = h.adminToken) => h.intake.app.inject({ method: 'GET', url, headers: bearer(token) });

const experiment: ExperimentReport = {
  key: 'window-length',
  arms: [
    {
      name: 'short',
      window_minutes: 3,
      requests: 40,
      accepted_by_preferred: 10,
      acceptance_rate: 25,
      acceptance_rate_ci95: [14.19, 40.24],
      avg_response_seconds: 61.5,
      timeout_rate: 70,
      median_seconds_to_any_accept: 200,
    },
    {
      name: 'long',
      window_minutes: 15,
      requests: 0,
      accepted_by_preferred: 0,
      acceptance_rate: null,
      acceptance_rate_ci95: null,
      avg_response_seconds: null,
      timeout_rate: null,
      median_seconds_to_any_accept: null,
    },
  ],
};

describe('GET /v1/analytics/experiments/:key', () => {
  beforeAll(() => {
    answers.experiment = (q) =>
      q.key === experiment.key ? { ok: true, data: experiment } : { ok: false, code: 'not_found' };
  });

  it("answers analytics' report as is", async () => {
    const res = await get(`/v1/analytics/experiments/${experiment.key}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(experiment);
    expect(asked.experiment).toEqual([{ key: experiment.key }]);
  });

  it('is a 404 problem when analytics knows no such experiment', async () => {
    const res = await get('/v1/analytics/experiments/never-ran');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('is a 400 naming the key when it cannot be a key, without asking analytics', async () => {
    const res = await get('/v1/analytics/experiments/Not%20A%20Key');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual(expect.objectContaining({ in: 'params', field: 'key' }));
    expect(asked.experiment).toBeUndefined();
  });
});

const revenue: RevenueReport = {
  currency: 'EUR',
  by_path: [
    { path: 'priority_accepted', requests: 12, accepted: 9, revenue_cents: 44_100 },
    { path: 'fallback_accepted', requests: 5, accepted: 3, revenue_cents: 14_700 },
    { path: 'broadcast_accepted', requests: 20, accepted: 18, revenue_cents: 88_200 },
  ],
  favorite_customers_ltv_cents: 9800,
  other_customers_ltv_cents: 4900,
  unpriced_requests: 2,
};

describe('GET /v1/analytics/revenue', () => {
  beforeAll(() => {
    answers.revenue = (q) =>
      q.currency === undefined
        ? { ok: false, code: 'mixed_currencies', detail: 'EUR and USD: name one' }
        : { ok: true, data: { ...revenue, currency: q.currency } };
  });

  it('passes the period and currency to analytics and answers its report as is', async () => {
    const from = '2026-11-01T00:00:00.000Z';
    const to = '2026-12-01T00:00:00.000Z';
    const res = await get(`/v1/analytics/revenue?from=${from}&to=${to}&currency=EUR`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(revenue);
    expect(asked.revenue).toEqual([{ from, to, currency: 'EUR' }]);
  });

  it('is a 409 mixed_currencies problem when analytics says the period mixes currencies', async () => {
    const res = await get('/v1/analytics/revenue');
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 409, code: 'mixed_currencies', detail: 'EUR and USD: name one' });
  });

  it.each(['eur', 'EURO', 'E1R'])('is a 400 naming currency=%s, without asking analytics', async (currency) => {
    const res = await get(`/v1/analytics/revenue?currency=${currency}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toContainEqual(expect.objectContaining({ in: 'querystring', field: 'currency' }));
    expect(asked.revenue).toBeUndefined();
  });

  it('refuses another role', async () => {
    const m = await h.mechanic();
    expect((await get('/v1/analytics/revenue?currency=EUR', m.token)).statusCode).toBe(403);
  });
});

describe("the new fields of analytics' existing reports", () => {
  it("GET /v1/mechanics/me/stats shows the dashboard's numbers, earnings and seen acks", async () => {
    const m = await h.mechanic();
    const stats: MechanicStats = {
      favorited_by: 3,
      priority_requests: 10,
      priority_accepted: 6,
      priority_acceptance_rate: 60,
      avg_priority_response_seconds: 42.5,
      repeat_customers: 2,
      earnings_cents: null,
      earnings_from_favorites_cents: null,
      earnings_currency: null,
      earnings_by_currency: [
        { currency: 'EUR', earnings_cents: 9800, earnings_from_favorites_cents: 4900 },
        { currency: 'USD', earnings_cents: 1500, earnings_from_favorites_cents: 0 },
      ],
      avg_seen_seconds: 7.25,
      offers_never_seen: 1,
    };
    answers.mechanic_stats = () => ({ ok: true, data: stats });
    const res = await get('/v1/mechanics/me/stats', m.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(stats);
    expect(asked.mechanic_stats).toEqual([{ mechanic_id: m.id }]);
  });

  it('GET /v1/analytics/priority/success-rate shows the seen acks of each mechanic', async () => {
    const row: SuccessRateRow = {
      mechanic_id: '00000000-0000-4000-8000-000000000001',
      mechanic_name: 'Max Mech',
      total_priority_requests: 8,
      accepted_by_preferred: 4,
      priority_success_rate: 50,
      avg_seen_seconds: null,
      offers_never_seen: 3,
    };
    answers.success_rate = () => ({ ok: true, data: [row] });
    const res = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/analytics/priority/success-rate',
      headers: admin(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([row]);
  });
});
