import type {
  FallbackEffectiveness,
  MechanicStats,
  PrioritySkips,
  ResponseTimes,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import { type CurrencyEarnings, earningsSummary } from '../domain/earnings.js';
import type { ReportFilter } from '../domain/report-query.js';
import { FELL_BACK, PRIORITY, PRIORITY_OFFERS, pct, RESPONSE_SECONDS, SEEN_COLUMNS } from './report-sql.js';

type StatsRow = Omit<MechanicStats, keyof ReturnType<typeof earningsSummary>> & {
  earnings_by_currency: CurrencyEarnings[];
};

export interface ReportsRepository {
  successRate(filter: ReportFilter): Promise<SuccessRateRow[]>;
  responseTimes(filter: ReportFilter): Promise<ResponseTimes>;
  timeoutRate(filter: ReportFilter): Promise<TimeoutRate>;
  fallbackEffectiveness(filter: ReportFilter): Promise<FallbackEffectiveness>;
  prioritySkips(filter: ReportFilter): Promise<PrioritySkips>;
  mechanicStats(mechanicId: string): Promise<MechanicStats>;
}

// Every definition below is spelled out, with examples, in services/analytics/README.md; the
// shared pieces (priority request, priority offer, ranges, rates) are in report-sql.ts.

// The seed's "Priority Success Rate by Mechanic", per priority offer; rows with equal rates are
// ordered by volume, then id, so the answer is stable.
const SUCCESS_RATE_SQL = `
with p as (${PRIORITY_OFFERS})
select p.mechanic_id,
       m.first_name || ' ' || m.last_name as mechanic_name,
       count(*)::int as total_priority_requests,
       count(*) filter (where p.accepted)::int as accepted_by_preferred,
       ${pct('count(*) filter (where p.accepted)', 'count(*)')} as priority_success_rate,
       ${SEEN_COLUMNS}
from p
join mechanics m on m.id = p.mechanic_id
group by p.mechanic_id, m.first_name, m.last_name
having count(*) >= $3
order by priority_success_rate desc, total_priority_requests desc, mechanic_id`;

// The seed's "Average Priority Response Time" over accepted priority offers, in minutes,
// unrounded like the seed's.
const RESPONSE_TIMES_SQL = `
with p as (${PRIORITY_OFFERS})
select (avg(${RESPONSE_SECONDS}) / 60)::float8 as avg_response_minutes,
       (min(${RESPONSE_SECONDS}) / 60)::float8 as min_response_minutes,
       (max(${RESPONSE_SECONDS}) / 60)::float8 as max_response_minutes
from p
where p.accepted and p.accepted_at is not null`;

// Timed out = the window (a sequence: its last offered tier) ended with nobody accepting: routing
// broadcast it for priority_timeout. (The seed counted requests still pending ten minutes after
// notification at the time of the query.)
const TIMED_OUT = `f.fallback_reason = 'priority_timeout'`;
const TIMEOUT_RATE_SQL = `
select count(*)::int as total_priority_requests,
       count(*) filter (where ${TIMED_OUT})::int as timed_out,
       ${pct(`count(*) filter (where ${TIMED_OUT})`, 'count(*)')} as timeout_rate
from analytics_request_facts f
where ${PRIORITY}`;

// A fallback = a priority request that went to everyone after its favorites (FELL_BACK).
const FALLBACK_SQL = `
select count(*)::int as total_fallbacks,
       count(*) filter (where f.status = 'accepted')::int as accepted_after_fallback,
       ${pct(`count(*) filter (where f.status = 'accepted')`, 'count(*)')} as fallback_success_rate
from analytics_request_facts f
where ${PRIORITY} and ${FELL_BACK}`;

// Skipped tiers of priority requests (a favorite routing passed over instead of offering), per
// mechanic, most skipped first. One statement, so the totals and the rows are of one snapshot.
const SKIPS_SQL = `
with priority as (
  select f.request_id from analytics_request_facts f where ${PRIORITY}
), skipped as (
  select o.request_id, o.mechanic_id, o.outcome
  from analytics_offer_facts o
  join priority p on p.request_id = o.request_id
  where o.outcome in ('skipped_unavailable', 'skipped_not_approved')
), by_mechanic as (
  select s.mechanic_id,
         m.first_name || ' ' || m.last_name as mechanic_name,
         count(*)::int as skipped,
         count(*) filter (where s.outcome = 'skipped_unavailable')::int as skipped_unavailable,
         count(*) filter (where s.outcome = 'skipped_not_approved')::int as skipped_not_approved
  from skipped s
  join mechanics m on m.id = s.mechanic_id
  group by s.mechanic_id, m.first_name, m.last_name
)
select (select count(*) from priority)::int as priority_requests,
       (select count(distinct request_id) from skipped)::int as requests_with_skips,
       ${pct('(select count(distinct request_id) from skipped)', '(select count(*) from priority)')} as skip_rate,
       coalesce((select json_agg(b order by b.skipped desc, b.mechanic_id) from by_mechanic b), '[]'::json)
         as by_mechanic`;

// A mechanic's own priority offers, as in the success rate, and what they earned: the requests
// this mechanic accepted (any path), priced by the accepted event, per currency; "from favorites"
// = from customers who have this mechanic among their favorites now. Favorites are intake's
// reference data, read live (docs/decisions/005-analytics-read-model.md). One statement, one snapshot.
const MECHANIC_STATS_SQL = `
with p as (${PRIORITY_OFFERS}), mine as (
  select * from p where p.mechanic_id = $3
), won as (
  select f.customer_id, f.price_cents, f.currency,
         exists (select 1 from favorites fav where fav.customer_id = f.customer_id and fav.mechanic_id = $3)
           as from_favorite
  from analytics_request_facts f
  where f.status = 'accepted' and f.mechanic_id = $3
), earnings as (
  select w.currency, sum(w.price_cents)::bigint as earnings_cents,
         coalesce(sum(w.price_cents) filter (where w.from_favorite), 0)::bigint as earnings_from_favorites_cents
  from won w
  where w.price_cents is not null
  group by w.currency
)
select (select count(*) from favorites where mechanic_id = $3)::int as favorited_by,
       count(*)::int as priority_requests,
       count(*) filter (where p.accepted)::int as priority_accepted,
       ${pct('count(*) filter (where p.accepted)', 'count(*)')} as priority_acceptance_rate,
       (avg(${RESPONSE_SECONDS}) filter (where p.accepted))::float8 as avg_priority_response_seconds,
       (select count(*) from (
          select 1 from won where customer_id is not null group by customer_id having count(*) >= 2
        ) repeat)::int as repeat_customers,
       coalesce((select json_agg(e order by e.currency) from earnings e), '[]'::json) as earnings_by_currency,
       ${SEEN_COLUMNS}
from mine p`;

export function createReportsRepository(sql: Sql): ReportsRepository {
  const range = (filter: ReportFilter) => [filter.from, filter.to];
  async function one<T>(text: string, params: unknown[]): Promise<T> {
    const { rows } = await sql.query<T>(text, params);
    return rows[0] as T;
  }
  return {
    async successRate(filter) {
      const { rows } = await sql.query<SuccessRateRow>(SUCCESS_RATE_SQL, [...range(filter), filter.minRequests]);
      return rows;
    },
    responseTimes: (filter) => one<ResponseTimes>(RESPONSE_TIMES_SQL, range(filter)),
    timeoutRate: (filter) => one<TimeoutRate>(TIMEOUT_RATE_SQL, range(filter)),
    fallbackEffectiveness: (filter) => one<FallbackEffectiveness>(FALLBACK_SQL, range(filter)),
    prioritySkips: (filter) => one<PrioritySkips>(SKIPS_SQL, range(filter)),
    async mechanicStats(mechanicId) {
      const { earnings_by_currency, ...row } = await one<StatsRow>(MECHANIC_STATS_SQL, [null, null, mechanicId]);
      return { ...row, ...earningsSummary(earnings_by_currency) };
    },
  };
}
