import type { ExperimentReport, MechanicStats, RevenueReport } from '@dibs/contracts';
import { expect } from 'vitest';
import { wilsonPercent } from '../../src/domain/wilson.js';
import { acceptedByPreferred, FELL_BACK, pct, TIMED_OUT } from './expected.js';
import { type AnyOutcome, EXPERIMENTS, type GeneratedRequest, type History, PRIORITY_OUTCOMES } from './history.js';

// The answers of CONTRACT §7's reports counted by hand from how each generated life went (its
// outcome, the plan and arm it was given, the acks it sent), never from SQL nor from the events.

type Path = RevenueReport['by_path'][number]['path'];

/** Where each outcome ends in the revenue report (services/analytics/README.md). */
function pathOf(outcome: AnyOutcome): Path {
  if (FELL_BACK.has(outcome)) return 'fallback_accepted';
  const neverOffered: AnyOutcome[] = [
    'flag_off',
    'priority_failed',
    'plain_broadcast',
    'workshop',
    'seq_flag_off',
    'seq_all_not_approved',
  ];
  return neverOffered.includes(outcome) ? 'broadcast_accepted' : 'priority_accepted';
}

const accepted = (r: GeneratedRequest) => r.final.status === 'accepted';

/** The revenue report over `requests` (a period), in `currency`, or the error when it is ambiguous. */
export function expectedRevenue(
  history: History,
  requests: GeneratedRequest[],
  currency?: string,
): { ok: true; data: RevenueReport } | { ok: false; code: 'mixed_currencies' } {
  const currencies = new Set(requests.flatMap((r) => (r.price ? [r.price.currency] : [])));
  if (!currency && currencies.size > 1) return { ok: false, code: 'mixed_currencies' };
  const chosen = currency ?? [...currencies][0] ?? null;
  const cents = (rs: GeneratedRequest[]) =>
    rs.reduce((n, r) => (r.price && r.price.currency === chosen ? n + r.price.cents : n), 0);
  const paths: Path[] = ['priority_accepted', 'fallback_accepted', 'broadcast_accepted'];
  const hasFavorite = (customerId: string) => [...history.favorites].some((f) => f.startsWith(`${customerId}:`));
  const customers = [...new Set(requests.map((r) => r.final.customer_id))];
  const ltv = (group: string[]) =>
    group.length === 0
      ? null
      : Math.round(cents(requests.filter((r) => group.includes(r.final.customer_id))) / group.length);
  return {
    ok: true,
    data: {
      currency: chosen,
      by_path: paths.map((path) => {
        const on = requests.filter((r) => pathOf(r.outcome) === path);
        return { path, requests: on.length, accepted: on.filter(accepted).length, revenue_cents: cents(on) };
      }),
      favorite_customers_ltv_cents: ltv(customers.filter(hasFavorite)),
      other_customers_ltv_cents: ltv(customers.filter((c) => !hasFavorite(c))),
      unpriced_requests: requests.filter((r) => accepted(r) && r.price === null).length,
    },
  };
}

/** What a mechanic earned from the requests it accepted, per currency (MechanicStats' earnings fields). */
export function expectedEarnings(history: History, mechanicId: string) {
  const won = history.requests.filter((r) => accepted(r) && r.final.mechanic_id === mechanicId);
  const perCustomer = new Map<string, number>();
  for (const r of won) perCustomer.set(r.final.customer_id, (perCustomer.get(r.final.customer_id) ?? 0) + 1);
  const byCurrency = new Map<
    string,
    { currency: string; earnings_cents: number; earnings_from_favorites_cents: number }
  >();
  for (const r of won) {
    if (!r.price) continue;
    const row = byCurrency.get(r.price.currency) ?? {
      currency: r.price.currency,
      earnings_cents: 0,
      earnings_from_favorites_cents: 0,
    };
    row.earnings_cents += r.price.cents;
    if (history.favorites.has(`${r.final.customer_id}:${mechanicId}`))
      row.earnings_from_favorites_cents += r.price.cents;
    byCurrency.set(r.price.currency, row);
  }
  const list = [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  const one = list.length === 1 ? list[0]! : null;
  const fields: Pick<
    MechanicStats,
    | 'repeat_customers'
    | 'earnings_cents'
    | 'earnings_from_favorites_cents'
    | 'earnings_currency'
    | 'earnings_by_currency'
  > = {
    repeat_customers: [...perCustomer.values()].filter((n) => n >= 2).length,
    earnings_cents: list.length === 0 ? 0 : (one?.earnings_cents ?? null),
    earnings_from_favorites_cents: list.length === 0 ? 0 : (one?.earnings_from_favorites_cents ?? null),
    earnings_currency: one?.currency ?? null,
    earnings_by_currency: list,
  };
  return fields;
}

/** The median as `percentile_cont(0.5)`: the middle value, or the mean of the two middle ones. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The experiment report of `key`: per arm, the enrolled requests whose priority window opened. */
export function expectedExperiment(history: History, key: string): ExperimentReport {
  const experiment = EXPERIMENTS.find((e) => e.key === key)!;
  return {
    key,
    arms: experiment.arms.map((arm) => {
      const rs = history.requests.filter(
        (r) =>
          r.final.experiment?.key === key && r.final.experiment.arm === arm.name && PRIORITY_OUTCOMES.has(r.outcome),
      );
      const byPreferred = rs.filter(acceptedByPreferred);
      const seconds = (from: string | null, to: string | null) => (Date.parse(to!) - Date.parse(from!)) / 1000;
      const responses = byPreferred.map((r) => seconds(r.final.priority_notified_at, r.final.accepted_at));
      const timedOut = rs.filter((r) => TIMED_OUT.has(r.outcome)).length;
      return {
        name: arm.name,
        window_minutes: arm.window_minutes,
        requests: rs.length,
        accepted_by_preferred: byPreferred.length,
        acceptance_rate: rs.length ? pct(byPreferred.length, rs.length) : null,
        acceptance_rate_ci95: wilsonPercent(byPreferred.length, rs.length),
        avg_response_seconds: responses.length ? responses.reduce((a, b) => a + b, 0) / responses.length : null,
        timeout_rate: rs.length ? pct(timedOut, rs.length) : null,
        median_seconds_to_any_accept: median(
          rs.filter(accepted).map((r) => seconds(r.final.created_at, r.final.accepted_at)),
        ),
      };
    }),
  };
}

/** An experiment report with its averages matched to 6 decimals (numeric means vs JavaScript). */
export function approximately(report: ExperimentReport) {
  const close = (v: number | null) => (v === null ? null : expect.closeTo(v, 6));
  return {
    ...report,
    arms: report.arms.map((arm) => ({
      ...arm,
      avg_response_seconds: close(arm.avg_response_seconds),
      median_seconds_to_any_accept: close(arm.median_seconds_to_any_accept),
    })),
  };
}
