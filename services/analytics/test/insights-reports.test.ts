import { natsNames, ReportReplySchema } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { reportFilter } from '../src/domain/report-query.js';
import { inRange } from './support/expected.js';
import { approximately, expectedExperiment, expectedRevenue } from './support/expected-insights.js';
import { useReportedHistory } from './support/reported-history.js';

// CONTRACT §7's reports (experiments on the window, revenue) on the generated history, against
// the numbers counted by hand from how each life went; the dashboard's and the success rate's new
// fields are checked with the rest of their report in sequence-reports.test.ts.
const h = useReportedHistory('ani');

describe('the generated history', () => {
  it('covers every case the new reports distinguish', () => {
    const r = h.history.requests;
    const arms = (arm: string) => r.filter((x) => x.final.experiment?.arm === arm);
    expect(arms('short').length).toBeGreaterThan(30);
    expect(arms('long').length).toBeGreaterThan(30);
    expect(arms('unused')).toHaveLength(0);
    expect(arms('a').length + arms('b').length).toBeGreaterThan(0);
    // Enrolled requests that never got a window (flag off, mechanic not approved).
    expect(r.some((x) => x.final.experiment && x.final.priority_notified_at === null)).toBe(true);
    expect(new Set(r.flatMap((x) => (x.price ? [x.price.currency] : [])))).toEqual(new Set(['EUR', 'USD']));
    const singles = inRange(r, h.history.singlesFrom);
    expect(new Set(singles.flatMap((x) => (x.price ? [x.price.currency] : [])))).toEqual(new Set(['EUR']));
    expect(r.some((x) => x.final.status === 'accepted' && x.price === null)).toBe(true);
    expect(h.history.seen.some((s) => s.offer === 'broadcast')).toBe(true);
    // A preferred mechanic that acked only the broadcast frame: its priority offer was never seen.
    const ackedBroadcastOnly = r.filter((x) =>
      x.seen.some((s) => s.mechanic_id === x.final.preferred_mechanic_id && s.offer === 'broadcast'),
    );
    expect(ackedBroadcastOnly.some((x) => x.final.priority_notified_at !== null)).toBe(true);
    expect(h.history.seenRepeats.length).toBeGreaterThan(0);
  });
});

describe('experiment report', () => {
  it('reports each arm in the experiment’s order, counted by hand, with its Wilson interval', async () => {
    const mine = await h.analytics.insights.experiment('window-length');
    expect(mine).toEqual(approximately(expectedExperiment(h.history, 'window-length')));
    const [short, long] = mine!.arms;
    expect(short).toMatchObject({ name: 'short', window_minutes: 6 });
    expect(long).toMatchObject({ name: 'long', window_minutes: 15 });
    for (const arm of [short!, long!]) {
      const [lo, hi] = arm.acceptance_rate_ci95!;
      expect(lo).toBeLessThanOrEqual(arm.acceptance_rate!);
      expect(hi).toBeGreaterThanOrEqual(arm.acceptance_rate!);
      expect(arm.median_seconds_to_any_accept).toBeGreaterThan(0);
    }
  });

  it('gives an arm without requests zeros and nulls, never NaN', async () => {
    const mine = await h.analytics.insights.experiment('window-length');
    expect(mine!.arms[2]).toEqual({
      name: 'unused',
      window_minutes: 30,
      requests: 0,
      accepted_by_preferred: 0,
      acceptance_rate: null,
      acceptance_rate_ci95: null,
      avg_response_seconds: null,
      timeout_rate: null,
      median_seconds_to_any_accept: null,
    });
  });

  it('counts only the requests of its own key', async () => {
    const older = await h.analytics.insights.experiment('older-test');
    expect(older).toEqual(approximately(expectedExperiment(h.history, 'older-test')));
    expect(older!.arms.reduce((n, a) => n + a.requests, 0)).toBeGreaterThan(0);
  });
});

describe('revenue report', () => {
  it('refuses a period priced in several currencies unless one is asked for', async () => {
    const all = reportFilter({});
    expect(await h.analytics.insights.revenue(all)).toMatchObject({ ok: false, code: 'mixed_currencies' });
    for (const currency of ['EUR', 'USD']) {
      const mine = await h.analytics.insights.revenue(all, currency);
      expect(mine).toEqual(expectedRevenue(h.history, h.history.requests, currency));
      expect(mine.ok && mine.data.by_path.every((p) => p.requests > 0 && p.accepted > 0)).toBe(true);
    }
    // A currency nobody paid in: the counts, and no money.
    const none = await h.analytics.insights.revenue(all, 'JPY');
    expect(none).toEqual(expectedRevenue(h.history, h.history.requests, 'JPY'));
    expect(none.ok && none.data.by_path.map((p) => p.revenue_cents)).toEqual([0, 0, 0]);
  });

  it('reports a period priced in one currency in that currency, by path, with both LTVs', async () => {
    const singles = inRange(h.history.requests, h.history.singlesFrom);
    const mine = await h.analytics.insights.revenue(reportFilter({ from: h.history.singlesFrom }));
    expect(mine).toEqual(expectedRevenue(h.history, singles));
    expect(mine.ok && mine.data.currency).toBe('EUR');
    expect(mine.ok && mine.data.favorite_customers_ltv_cents).toBeGreaterThan(0);
    expect(mine.ok && mine.data.other_customers_ltv_cents).toBeGreaterThan(0);
    expect(mine.ok && mine.data.unpriced_requests).toBeGreaterThan(0);
  });

  it('filters on the request created_at, from inclusive and to exclusive', async () => {
    const from = h.history.requests[370]!.final.created_at;
    const to = h.history.requests[220]!.final.created_at;
    const requests = inRange(h.history.requests, from, to);
    const f = reportFilter({ from, to });
    for (const currency of ['EUR', 'USD']) {
      expect(await h.analytics.insights.revenue(f, currency)).toEqual(expectedRevenue(h.history, requests, currency));
    }
  });
});

describe('over NATS request-reply', () => {
  const ask = async (report: 'experiment' | 'revenue', body: unknown) => {
    const msg = await h.nc.request(natsNames(h.prefix).subjects.analyticsReport(report), JSON.stringify(body), {
      timeout: 5000,
    });
    return ReportReplySchema.parse(msg.json());
  };

  it('answers both reports with the HTTP body, or the codes intake maps', async () => {
    expect(await ask('experiment', { key: 'window-length' })).toEqual({
      ok: true,
      data: await h.analytics.insights.experiment('window-length'),
    });
    expect(await ask('experiment', { key: 'nope' })).toMatchObject({ ok: false, code: 'not_found' });
    expect(await ask('revenue', {})).toMatchObject({ ok: false, code: 'mixed_currencies' });
    expect(await ask('revenue', { currency: 'USD' })).toEqual(
      await h.analytics.insights.revenue(reportFilter({}), 'USD'),
    );
    expect(await ask('revenue', { from: h.history.singlesFrom })).toEqual(
      await h.analytics.insights.revenue(reportFilter({ from: h.history.singlesFrom })),
    );
    expect(await ask('revenue', { currency: 'euro' })).toMatchObject({ ok: false, code: 'invalid_command' });
  });
});
