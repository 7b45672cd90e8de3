import type {
  FallbackEffectiveness,
  MechanicStats,
  PrioritySkips,
  ResponseTimes,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import type { ReportFilter } from '../domain/report-query.js';

export interface ReportsRepository {
  successRate(filter: ReportFilter): Promise<SuccessRateRow[]>;
  responseTimes(filter: ReportFilter): Promise<ResponseTimes>;
  timeoutRate(filter: ReportFilter): Promise<TimeoutRate>;
  fallbackEffectiveness(filter: ReportFilter): Promise<FallbackEffectiveness>;
  prioritySkips(filter: ReportFilter): Promise<PrioritySkips>;
  mechanicStats(mechanicId: string): Promise<MechanicStats>;
}

// Every definition below is spelled out, with examples, in services/analytics/README.md.

// `$1`/`$2`: the optional half-open range on the request's created_at.
const RANGE = `($1::timestamptz is null or f.created_at >= $1::timestamptz)
  and ($2::timestamptz is null or f.created_at < $2::timestamptz)`;

// A priority request: routing reached the customer's favorites and offered the request to one
// of them (priority_notified_at is the first offer) or skipped every one as unavailable. For a
// single preferred mechanic, the seed's definition (a window that really happened) plus
// priority_unavailable, which did not exist before; a sequence needs no preferred_mechanic_id.
const PRIORITY = `(f.priority_notified_at is not null or f.fallback_reason = 'priority_unavailable')
  and (f.preferred_mechanic_id is not null or f.routing_type = 'priority_sequence')
  and ${RANGE}`;

// One row per priority offer: a single request's window for its preferred mechanic, accepted
// when that mechanic accepted it, also after the fallback (the seed's rule, read from the
// request's columns as the seed does); and each tier of a sequence offered to a mechanic (skipped
// tiers were never offered), accepted when that tier's outcome is accepted, i.e. inside it.
// `offered_at` → `accepted_at` is the response time of an accepted one.
const PRIORITY_OFFERS = `
  select f.preferred_mechanic_id as mechanic_id, f.priority_notified_at as offered_at, f.accepted_at,
         coalesce(f.status = 'accepted' and f.mechanic_id = f.preferred_mechanic_id, false) as accepted
  from analytics_request_facts f
  where f.routing_type <> 'priority_sequence' and f.preferred_mechanic_id is not null
    and f.priority_notified_at is not null and ${RANGE}
  union all
  select o.mechanic_id, o.offered_at, f.accepted_at, coalesce(o.outcome = 'accepted', false) as accepted
  from analytics_offer_facts o
  join analytics_request_facts f on f.request_id = o.request_id
  where f.routing_type = 'priority_sequence' and o.offered_at is not null and ${RANGE}`;

const RESPONSE_SECONDS = `extract(epoch from (p.accepted_at - p.offered_at))`;

/** The seed's `ROUND(100.0 * part / total, 2)`, as 0 instead of an error when there is no data. */
const pct = (part: string, total: string) => `coalesce(round(100.0 * ${part} / nullif(${total}, 0), 2), 0)::float8`;

// The seed's "Priority Success Rate by Mechanic", per priority offer; rows with equal rates are
// ordered by volume, then id, so the answer is stable.
const SUCCESS_RATE_SQL = `
with p as (${PRIORITY_OFFERS})
select p.mechanic_id,
       m.first_name || ' ' || m.last_name as mechanic_name,
       count(*)::int as total_priority_requests,
       count(*) filter (where p.accepted)::int as accepted_by_preferred,
       ${pct('count(*) filter (where p.accepted)', 'count(*)')} as priority_success_rate
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

// A fallback = a priority request that went to everyone after its favorites: the window (or last
// tier) timed out or was declined, or every favorite was skipped as unavailable.
const FALLBACK_SQL = `
select count(*)::int as total_fallbacks,
       count(*) filter (where f.status = 'accepted')::int as accepted_after_fallback,
       ${pct(`count(*) filter (where f.status = 'accepted')`, 'count(*)')} as fallback_success_rate
from analytics_request_facts f
where ${PRIORITY} and f.broadcast_at is not null
  and f.fallback_reason in ('priority_timeout', 'priority_declined', 'priority_unavailable')`;

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

// A mechanic's own priority offers, as in the success rate. Favorites are intake's reference
// data, read live (docs/decisions/005-analytics-read-model.md).
const MECHANIC_STATS_SQL = `
with p as (${PRIORITY_OFFERS})
select (select count(*) from favorites where mechanic_id = $3)::int as favorited_by,
       count(*)::int as priority_requests,
       count(*) filter (where p.accepted)::int as priority_accepted,
       ${pct('count(*) filter (where p.accepted)', 'count(*)')} as priority_acceptance_rate,
       (avg(${RESPONSE_SECONDS}) filter (where p.accepted))::float8 as avg_priority_response_seconds
from p
where p.mechanic_id = $3`;

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
    mechanicStats: (mechanicId) => one<MechanicStats>(MECHANIC_STATS_SQL, [null, null, mechanicId]),
  };
}
