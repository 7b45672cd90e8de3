import { REVENUE_PATHS, type RevenueReport } from '@dibs/contracts';

type RevenuePath = (typeof REVENUE_PATHS)[number];

/** What the revenue statement reads for a period, before a currency is chosen. */
export interface RevenueFacts {
  /** Requests and accepted requests per path (paths without requests absent). */
  paths: { path: RevenuePath; requests: number; accepted: number }[];
  /** Accepted revenue per path and currency. */
  revenue: { path: RevenuePath; currency: string; cents: number }[];
  /** Accepted revenue of the period's customers, by whether they have a favorite, per currency. */
  customer_revenue: { has_favorite: boolean; currency: string; cents: number }[];
  /** Customers with at least one request created in the period, with and without a favorite. */
  favorite_customers: number;
  other_customers: number;
  unpriced_requests: number;
  /** Every currency an accepted request of the period was priced in. */
  currencies: string[];
}

export type RevenueOutcome =
  | { ok: true; data: RevenueReport }
  | { ok: false; code: 'mixed_currencies'; detail: string };

/**
 * The revenue report in one currency (CONTRACT §7): the one asked for, else the only one the
 * period's priced requests use; several and none asked → `mixed_currencies`, never a sum across
 * currencies. Without any priced request, `currency` is null and every amount 0. The LTVs are
 * the group's revenue divided by its customers, rounded to the cent (null for an empty group).
 */
export function revenueReport(facts: RevenueFacts, requested?: string): RevenueOutcome {
  const currencies = [...new Set(facts.currencies)].sort();
  if (requested === undefined && currencies.length > 1) {
    return {
      ok: false,
      code: 'mixed_currencies',
      detail: `accepted requests of this period are priced in ${currencies.join(', ')}: ask for one currency`,
    };
  }
  const currency = requested ?? currencies[0] ?? null;
  const sum = (xs: { currency: string; cents: number }[]) =>
    xs.reduce((n, x) => (x.currency === currency ? n + x.cents : n), 0);
  const ltv = (hasFavorite: boolean, customers: number) =>
    customers === 0
      ? null
      : Math.round(sum(facts.customer_revenue.filter((c) => c.has_favorite === hasFavorite)) / customers);
  return {
    ok: true,
    data: {
      currency,
      by_path: REVENUE_PATHS.map((path) => {
        const counts = facts.paths.find((p) => p.path === path);
        return {
          path,
          requests: counts?.requests ?? 0,
          accepted: counts?.accepted ?? 0,
          revenue_cents: sum(facts.revenue.filter((r) => r.path === path)),
        };
      }),
      favorite_customers_ltv_cents: ltv(true, facts.favorite_customers),
      other_customers_ltv_cents: ltv(false, facts.other_customers),
      unpriced_requests: facts.unpriced_requests,
    },
  };
}
