import type { FallbackEffectiveness, MechanicStats, ResponseTimes, SuccessRateRow, TimeoutRate } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import type { ReportFilter } from '../domain/report-query.js';

export interface ReportsRepository {
  successRate(filter: ReportFilter): Promise<SuccessRateRow[]>;
  responseTimes(filter: ReportFilter): Promise<ResponseTimes>;
  timeoutRate(filter: ReportFilter): Promise<TimeoutRate>;
  fallbackEffectiveness(filter: ReportFilter): Promise<FallbackEffectiveness>;
  mechanicStats(mechanicId: string): Promise<MechanicStats>;
}

// A priority request, as in the seed: a preferred mechanic and a priority window that really
// happened. `$1`/`$2` are the optional half-open range on the request's created_at.
const PRIORITY = `f.preferred_mechanic_id is not null and f.priority_notified_at is not null
  and ($1::timestamptz is null or f.created_at >= $1::timestamptz)
  and ($2::timestamptz is null or f.created_at < $2::timestamptz)`;

const BY_PREFERRED = `f.status = 'accepted' and f.mechanic_id = f.preferred_mechanic_id`;

/** The seed's `ROUND(100.0 * part / total, 2)`, as 0 instead of an error when there is no data. */
const pct = (part: string, total: string) => `coalesce(round(100.0 * ${part} / nullif(${total}, 0), 2), 0)::float8`;

// The seed's "Priority Success Rate by Mechanic", on the read model; rows with equal rates are
// ordered by volume, then id, so the answer is stable.
const SUCCESS_RATE_SQL = `
select f.preferred_mechanic_id as mechanic_id,
       m.first_name || ' ' || m.last_name as mechanic_name,
       count(*)::int as total_priority_requests,
       count(*) filter (where ${BY_PREFERRED})::int as accepted_by_preferred,
       ${pct(`count(*) filter (where ${BY_PREFERRED})`, 'count(*)')} as priority_success_rate
from analytics_request_facts f
join mechanics m on m.id = f.preferred_mechanic_id
where ${PRIORITY}
group by f.preferred_mechanic_id, m.first_name, m.last_name
having count(*) >= $3
order by priority_success_rate desc, total_priority_requests desc, mechanic_id`;

// The seed's "Average Priority Response Time", in minutes, unrounded like the seed's.
const RESPONSE_TIMES_SQL = `
select (avg(extract(epoch from (f.accepted_at - f.priority_notified_at))) / 60)::float8 as avg_response_minutes,
       (min(extract(epoch from (f.accepted_at - f.priority_notified_at))) / 60)::float8 as min_response_minutes,
       (max(extract(epoch from (f.accepted_at - f.priority_notified_at))) / 60)::float8 as max_response_minutes
from analytics_request_facts f
where ${PRIORITY} and f.accepted_at is not null and f.mechanic_id = f.preferred_mechanic_id`;

// Timed out = the window ended with nobody accepting: routing broadcast it for priority_timeout.
// (The seed counted requests still pending ten minutes after notification at the time of the query.)
const TIMED_OUT = `f.fallback_reason = 'priority_timeout'`;
const TIMEOUT_RATE_SQL = `
select count(*)::int as total_priority_requests,
       count(*) filter (where ${TIMED_OUT})::int as timed_out,
       ${pct(`count(*) filter (where ${TIMED_OUT})`, 'count(*)')} as timeout_rate
from analytics_request_facts f
where ${PRIORITY}`;

// A fallback = a priority request that went to everyone after its window (timed out or declined).
const FALLBACK_SQL = `
select count(*)::int as total_fallbacks,
       count(*) filter (where f.status = 'accepted')::int as accepted_after_fallback,
       ${pct(`count(*) filter (where f.status = 'accepted')`, 'count(*)')} as fallback_success_rate
from analytics_request_facts f
where ${PRIORITY} and f.broadcast_at is not null
  and f.fallback_reason in ('priority_timeout', 'priority_declined')`;

// Favorites are intake's reference data, read live (docs/decisions/005-analytics-read-model.md).
const MECHANIC_STATS_SQL = `
select (select count(*) from favorites where mechanic_id = $3)::int as favorited_by,
       count(*)::int as priority_requests,
       count(*) filter (where ${BY_PREFERRED})::int as priority_accepted,
       ${pct(`count(*) filter (where ${BY_PREFERRED})`, 'count(*)')} as priority_acceptance_rate,
       (avg(extract(epoch from (f.accepted_at - f.priority_notified_at))) filter (where ${BY_PREFERRED}))::float8
         as avg_priority_response_seconds
from analytics_request_facts f
where ${PRIORITY} and f.preferred_mechanic_id = $3`;

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
    mechanicStats: (mechanicId) => one<MechanicStats>(MECHANIC_STATS_SQL, [null, null, mechanicId]),
  };
}
