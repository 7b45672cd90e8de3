import type { SuccessRateRow } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { reportFilter } from '../src/domain/report-query.js';
import {
  expectedFallback,
  expectedResponseTimes,
  expectedSkips,
  expectedStats,
  expectedSuccess,
  expectedTimeoutRate,
  inRange,
  seenClose,
} from './support/expected.js';
import { useReportedHistory } from './support/reported-history.js';

// Every report on the whole generated history (sequences, a preferred mechanic found unavailable,
// skipped favorites) against the numbers counted by hand from how each request's life went.
const h = useReportedHistory('ans');
const all = () => reportFilter({});
/** The requests booked as before issue 12 (one preferred mechanic, or none). */
const singles = () => reportFilter({ from: h.history.singlesFrom });
/** The issue-12 lives, all created before the single ones. */
const sequencesOnly = () => reportFilter({ to: h.history.singlesFrom });

describe('the whole history, sequences and skipped favorites included', () => {
  const sortById = (rows: SuccessRateRow[]) => [...rows].sort((a, b) => a.mechanic_id.localeCompare(b.mechanic_id));

  it('success rate counts each offered tier for its mechanic, accepted when accepted inside it', async () => {
    const mine = await h.analytics.reports.successRate({ ...all(), minRequests: 0 });
    expect(sortById(mine)).toEqual(seenClose(sortById(expectedSuccess(h.history, h.history.requests))));
    // The default min_requests keeps the seed's threshold, best first.
    const atLeastFive = await h.analytics.reports.successRate(all());
    expect(sortById(atLeastFive)).toEqual(sortById(mine.filter((r) => r.total_priority_requests >= 5)));
    const rates = atLeastFive.map((r) => r.priority_success_rate);
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
    // Sequences add to the single requests' numbers.
    const onlySingles = await h.analytics.reports.successRate({ ...singles(), minRequests: 0 });
    const total = (rows: SuccessRateRow[]) => rows.reduce((n, r) => n + r.total_priority_requests, 0);
    expect(total(mine)).toBeGreaterThan(total(onlySingles));
  });

  it('response times run from the accepting tier’s offer to the acceptance', async () => {
    const mine = await h.analytics.reports.responseTimes(all());
    const expected = expectedResponseTimes(h.history.requests);
    expect(mine.avg_response_minutes).toBeCloseTo(expected.avg_response_minutes!, 10);
    expect(mine.min_response_minutes).toBeCloseTo(expected.min_response_minutes!, 10);
    expect(mine.max_response_minutes).toBeCloseTo(expected.max_response_minutes!, 10);
    const sequences = await h.analytics.reports.responseTimes(sequencesOnly());
    const tierMinutes = expectedResponseTimes(inRange(h.history.requests, undefined, h.history.singlesFrom));
    expect(sequences.max_response_minutes).toBeCloseTo(tierMinutes.max_response_minutes!, 10);
    // Inside a tier: never longer than the longest tier window (5 minutes).
    expect(sequences.max_response_minutes!).toBeLessThan(5);
  });

  it('timeout rate counts a sequence whose last offered tier ended unanswered', async () => {
    expect(await h.analytics.reports.timeoutRate(all())).toEqual(expectedTimeoutRate(h.history.requests));
    const sequences = await h.analytics.reports.timeoutRate(sequencesOnly());
    expect(sequences).toEqual(expectedTimeoutRate(inRange(h.history.requests, undefined, h.history.singlesFrom)));
    expect(sequences.timed_out).toBeGreaterThan(0);
  });

  it('fallback effectiveness counts requests whose every favorite was skipped as priority requests that fell back', async () => {
    expect(await h.analytics.reports.fallbackEffectiveness(all())).toEqual(expectedFallback(h.history.requests));
    const unavailable = h.history.requests.filter(
      (r) => r.outcome === 'seq_all_skipped' || r.outcome === 'single_unavailable',
    );
    expect(unavailable.every((r) => r.final.fallback_reason === 'priority_unavailable')).toBe(true);
    const without = expectedFallback(h.history.requests.filter((r) => !unavailable.includes(r)));
    expect((await h.analytics.reports.fallbackEffectiveness(all())).total_fallbacks).toBe(
      without.total_fallbacks + unavailable.length,
    );
  });

  it('skips: priority requests with a skipped favorite, and each mechanic’s skips by reason', async () => {
    const mine = await h.analytics.reports.prioritySkips(all());
    expect(mine).toEqual(expectedSkips(h.history, h.history.requests));
    expect(mine.priority_requests).toBe((await h.analytics.reports.timeoutRate(all())).total_priority_requests);
    expect(mine.requests_with_skips).toBeGreaterThan(0);
    const suspended = h.history.mechanics.find((m) => m.status === 'suspended')!;
    const row = mine.by_mechanic.find((r) => r.mechanic_id === suspended.id)!;
    expect(row.skipped_not_approved).toBeGreaterThan(0);
    expect(row.skipped_unavailable).toBe(0);
    expect(mine.by_mechanic.some((r) => r.skipped_unavailable > 0)).toBe(true);
    // Requests booked as before issue 12 never skip anyone.
    expect(await h.analytics.reports.prioritySkips(singles())).toEqual({
      ...expectedSkips(h.history, inRange(h.history.requests, h.history.singlesFrom)),
      requests_with_skips: 0,
      skip_rate: 0,
      by_mechanic: [],
    });
  });

  it('filters every report on the request created_at, from inclusive and to exclusive', async () => {
    // From the middle of the sequences to the middle of the single requests.
    const from = h.history.requests[370]!.final.created_at;
    const to = h.history.requests[220]!.final.created_at;
    const requests = inRange(h.history.requests, from, to);
    expect(requests).toHaveLength(220 + (h.history.requests.length - 370));
    const f = reportFilter({ from, to, min_requests: 0 });
    expect(await h.analytics.reports.timeoutRate(f)).toEqual(expectedTimeoutRate(requests));
    expect(await h.analytics.reports.fallbackEffectiveness(f)).toEqual(expectedFallback(requests));
    expect(await h.analytics.reports.prioritySkips(f)).toEqual(expectedSkips(h.history, requests));
    const rows = await h.analytics.reports.successRate(f);
    expect(sortById(rows)).toEqual(seenClose(sortById(expectedSuccess(h.history, requests))));
  });

  it('mechanic stats: favorites, priority requests, acceptance and average response of each mechanic', async () => {
    for (const m of h.history.mechanics) {
      const mine = await h.analytics.reports.mechanicStats(m.id);
      const expected = expectedStats(h.history, m.id);
      expect({ ...mine, avg_priority_response_seconds: null }).toEqual({
        ...seenClose([expected])[0],
        avg_priority_response_seconds: null,
      });
      if (expected.avg_priority_response_seconds === null) expect(mine.avg_priority_response_seconds).toBeNull();
      else expect(mine.avg_priority_response_seconds).toBeCloseTo(expected.avg_priority_response_seconds, 6);
    }
    expect(h.history.mechanics.some((m) => expectedStats(h.history, m.id).priority_accepted > 0)).toBe(true);
  });

  it('dashboard: repeat customers, earnings in one currency only when there is one, seen acks', async () => {
    const stats = await Promise.all(h.history.mechanics.map((m) => h.analytics.reports.mechanicStats(m.id)));
    // Each branch of the earnings fields is reached (their values are checked above).
    expect(stats.some((x) => x.earnings_by_currency.length > 1 && x.earnings_cents === null)).toBe(true);
    const oneCurrency = stats.filter((x) => x.earnings_by_currency.length === 1);
    expect(oneCurrency.some((x) => x.earnings_currency === 'EUR' && (x.earnings_from_favorites_cents ?? 0) > 0)).toBe(
      true,
    );
    expect(stats.some((x) => x.earnings_by_currency.length === 0 && x.earnings_cents === 0)).toBe(true);
    expect(stats.some((x) => x.repeat_customers > 0)).toBe(true);
    expect(stats.some((x) => x.offers_never_seen > 0 && x.avg_seen_seconds !== null)).toBe(true);
  });
});
