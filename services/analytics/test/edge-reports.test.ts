import { cleanupNats, createTestDatabase, type TestDatabase, testPrefix } from '@dibs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Analytics } from '../src/app.js';
import { reportFilter } from '../src/domain/report-query.js';
import { startAnalytics } from './support/harness.js';
import { lifecycleOnly } from './support/history.js';

// Reports on no data and on requests routing has barely touched: nulls and zeros, never NaN.

let db: TestDatabase;
let prefix: string;
let analytics: Analytics;

beforeEach(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('ane');
  analytics = await startAnalytics(db, prefix);
});
afterEach(async () => {
  await analytics.close();
  await cleanupNats(prefix);
  await db.drop();
});

describe('reports on little or no data', () => {
  it('puts a request on a revenue path once routing acted on it: pending in its window is priority', async () => {
    const unrouted = lifecycleOnly('window_open', 1);
    const open = lifecycleOnly('window_open', 2);
    const broadcast = lifecycleOnly('plain_broadcast', 3);
    // The first request only as booked: routing has not offered nor broadcast it yet.
    const events = [unrouted.events[0]!, ...open.events, ...broadcast.events];
    await analytics.facts.apply(events.map((event) => ({ event, seq: null })));
    const answer = await analytics.insights.revenue(reportFilter({}));
    expect(answer.ok && answer.data.by_path.map((p) => [p.path, p.requests])).toEqual([
      ['priority_accepted', 1],
      ['fallback_accepted', 0],
      ['broadcast_accepted', 1],
    ]);
  });

  it('answers zeros, an empty list and null averages when there is no data', async () => {
    const f = reportFilter({});
    expect(await analytics.reports.successRate({ ...f, minRequests: 0 })).toEqual([]);
    expect(await analytics.reports.responseTimes(f)).toEqual({
      avg_response_minutes: null,
      min_response_minutes: null,
      max_response_minutes: null,
    });
    expect(await analytics.reports.timeoutRate(f)).toEqual({
      total_priority_requests: 0,
      timed_out: 0,
      timeout_rate: 0,
    });
    expect(await analytics.reports.fallbackEffectiveness(f)).toEqual({
      total_fallbacks: 0,
      accepted_after_fallback: 0,
      fallback_success_rate: 0,
    });
    expect(await analytics.reports.prioritySkips(f)).toEqual({
      priority_requests: 0,
      requests_with_skips: 0,
      skip_rate: 0,
      by_mechanic: [],
    });
    expect(await analytics.reports.mechanicStats(crypto.randomUUID())).toEqual({
      favorited_by: 0,
      priority_requests: 0,
      priority_accepted: 0,
      priority_acceptance_rate: 0,
      avg_priority_response_seconds: null,
      repeat_customers: 0,
      earnings_cents: 0,
      earnings_from_favorites_cents: 0,
      earnings_currency: null,
      earnings_by_currency: [],
      avg_seen_seconds: null,
      offers_never_seen: 0,
    });
    expect(await analytics.insights.revenue(f)).toEqual({
      ok: true,
      data: {
        currency: null,
        by_path: ['priority_accepted', 'fallback_accepted', 'broadcast_accepted'].map((path) => ({
          path,
          requests: 0,
          accepted: 0,
          revenue_cents: 0,
        })),
        favorite_customers_ltv_cents: null,
        other_customers_ltv_cents: null,
        unpriced_requests: 0,
      },
    });
    expect(await analytics.insights.experiment('no-such-experiment')).toBeNull();
  });
});
