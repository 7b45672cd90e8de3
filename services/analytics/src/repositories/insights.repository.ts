import type { ExperimentReport, RevenueQuery } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import type { ReportFilter } from '../domain/report-query.js';
import { type RevenueFacts, type RevenueOutcome, revenueReport } from '../domain/revenue.js';
import { wilsonPercent } from '../domain/wilson.js';
import { FELL_BACK, pctOrNull, RANGE } from './report-sql.js';

/** The reports of CONTRACT §7 beyond the priority funnel: experiments on the window, revenue. */
export interface InsightsRepository {
  /** The experiment's arms, in the experiment's order; null when no experiment has this key. */
  experiment(key: string): Promise<ExperimentReport | null>;
  revenue(filter: Pick<ReportFilter, 'from' | 'to'>, currency?: RevenueQuery['currency']): Promise<RevenueOutcome>;
}

// Every definition below is spelled out, with examples, in services/analytics/README.md.

// One row per arm of the experiment (intake's `experiments`, read live like `mechanics`; its
// check keeps 2–4 arms, so no row means no such experiment). An arm's requests: those enrolled in
// it whose priority window opened (the seed's priority request: preferred mechanic and
// priority_notified_at), whether the window is still open or over; enrolled requests that never
// got a window (flag off, mechanic unavailable or not approved) say nothing about its length.
// Accepted by preferred and the response time as in the success rate and response times
// (seconds); timed out as in the timeout rate; the median (percentile_cont, interpolated) of
// created_at → accepted_at over the arm's requests accepted by anyone.
const EXPERIMENT_SQL = `
with arm as (
  select a.ord, a.value ->> 'name' as name, (a.value ->> 'window_minutes')::int as window_minutes
  from experiments e
  cross join lateral jsonb_array_elements(e.arms) with ordinality as a(value, ord)
  where e.key = $1
), r as (
  select f.*, coalesce(f.status = 'accepted' and f.mechanic_id = f.preferred_mechanic_id, false) as by_preferred
  from analytics_request_facts f
  where f.experiment_key = $1 and f.preferred_mechanic_id is not null and f.priority_notified_at is not null
)
select arm.name, arm.window_minutes,
       count(r.request_id)::int as requests,
       count(*) filter (where r.by_preferred)::int as accepted_by_preferred,
       ${pctOrNull('count(*) filter (where r.by_preferred)', 'count(r.request_id)')} as acceptance_rate,
       (avg(extract(epoch from (r.accepted_at - r.priority_notified_at))) filter (where r.by_preferred))::float8
         as avg_response_seconds,
       ${pctOrNull(`count(*) filter (where r.fallback_reason = 'priority_timeout')`, 'count(r.request_id)')}
         as timeout_rate,
       (percentile_cont(0.5) within group (order by extract(epoch from (r.accepted_at - r.created_at)))
         filter (where r.status = 'accepted'))::float8 as median_seconds_to_any_accept
from arm
left join r on r.experiment_arm = arm.name
group by arm.ord, arm.name, arm.window_minutes
order by arm.ord`;

// The path each request created in the period took (null: routing has not acted yet):
// fallback = broadcast after its favorites (FELL_BACK); priority = offered to a favorite
// (priority_notified_at) and not fallen back, whether accepted inside a window, still open or
// cancelled in it; broadcast = went to everyone at once (plain broadcast, workshop, flag_disabled,
// priority_failed). Customers: those with a request created in the period, with or without a
// favorite now (intake's `favorites`, read live). One statement, one snapshot; the currency is
// chosen afterwards (revenueReport).
const REVENUE_SQL = `
with r as (
  select f.customer_id, f.status, f.price_cents, f.currency,
         case when ${FELL_BACK} then 'fallback_accepted'
              when f.priority_notified_at is not null then 'priority_accepted'
              when f.broadcast_at is not null then 'broadcast_accepted'
         end as path
  from analytics_request_facts f
  where ${RANGE}
), priced as (
  select * from r where r.status = 'accepted' and r.price_cents is not null
), customers as (
  select r.customer_id, exists (select 1 from favorites fav where fav.customer_id = r.customer_id) as has_favorite
  from r
  where r.customer_id is not null
  group by r.customer_id
)
select
  coalesce((select json_agg(x) from (
    select path, count(*)::int as requests, count(*) filter (where status = 'accepted')::int as accepted
    from r where path is not null group by path) x), '[]'::json) as paths,
  coalesce((select json_agg(x) from (
    select path, currency, sum(price_cents)::bigint as cents
    from priced where path is not null group by path, currency) x), '[]'::json) as revenue,
  coalesce((select json_agg(x) from (
    select c.has_favorite, p.currency, sum(p.price_cents)::bigint as cents
    from priced p join customers c on c.customer_id = p.customer_id
    group by c.has_favorite, p.currency) x), '[]'::json) as customer_revenue,
  (select count(*) filter (where has_favorite) from customers)::int as favorite_customers,
  (select count(*) filter (where not has_favorite) from customers)::int as other_customers,
  (select count(*) from r where status = 'accepted' and price_cents is null)::int as unpriced_requests,
  array(select distinct currency from priced order by currency) as currencies`;

type ArmRow = Omit<ExperimentReport['arms'][number], 'acceptance_rate_ci95'>;

export function createInsightsRepository(sql: Sql): InsightsRepository {
  return {
    async experiment(key) {
      const { rows } = await sql.query<ArmRow>(EXPERIMENT_SQL, [key]);
      if (rows.length === 0) return null;
      return {
        key,
        arms: rows.map((arm) => ({
          name: arm.name,
          window_minutes: arm.window_minutes,
          requests: arm.requests,
          accepted_by_preferred: arm.accepted_by_preferred,
          acceptance_rate: arm.acceptance_rate,
          acceptance_rate_ci95: wilsonPercent(arm.accepted_by_preferred, arm.requests),
          avg_response_seconds: arm.avg_response_seconds,
          timeout_rate: arm.timeout_rate,
          median_seconds_to_any_accept: arm.median_seconds_to_any_accept,
        })),
      };
    },
    async revenue(filter, currency) {
      const { rows } = await sql.query<RevenueFacts>(REVENUE_SQL, [filter.from, filter.to]);
      return revenueReport(rows[0] as RevenueFacts, currency);
    },
  };
}
