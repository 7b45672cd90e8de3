// The analytics read model against the source of truth, after a chaos run: every request's facts
// and every sequence tier's facts equal the rows, and each report the admin API answers equals
// the same definition (services/analytics/README.md, "What the reports count") computed here on
// routing's own tables, `session_requests` and `session_request_offers`.
import type pg from 'pg';
import { Findings, type Violation } from './chaos-checks.js';

// A priority request: routing reached the favorites and offered the request to one of them, or
// skipped every one as unavailable; a single one names its preferred mechanic.
const PRIORITY = `(r.priority_notified_at is not null or r.fallback_reason = 'priority_unavailable')
  and (r.preferred_mechanic_id is not null or r.routing_type = 'priority_sequence')`;

// One row per priority offer: a single request's window (accepted when its preferred mechanic
// took it, also after the fallback, as the seed counts), and each offered tier of a sequence
// (accepted when the tier ended accepted).
const OFFERS = `
  select r.preferred_mechanic_id as mechanic_id,
         coalesce(r.status = 'accepted' and r.mechanic_id = r.preferred_mechanic_id, false) as accepted
  from session_requests r
  where r.routing_type <> 'priority_sequence' and r.preferred_mechanic_id is not null
    and r.priority_notified_at is not null
  union all
  select o.mechanic_id, coalesce(o.outcome = 'accepted', false)
  from session_request_offers o join session_requests r on r.id = o.request_id
  where r.routing_type = 'priority_sequence' and o.offered_at is not null`;

// Favorites passed over, of priority requests: a single request's preferred mechanic found
// unavailable, and a sequence's skipped tiers.
const SKIPPED = `
  select r.id as request_id, r.preferred_mechanic_id as mechanic_id, 'skipped_unavailable' as outcome
  from session_requests r
  where ${PRIORITY} and r.routing_type <> 'priority_sequence' and r.fallback_reason = 'priority_unavailable'
  union all
  select o.request_id, o.mechanic_id, o.outcome
  from session_request_offers o join session_requests r on r.id = o.request_id
  where ${PRIORITY} and r.routing_type = 'priority_sequence'
    and o.outcome in ('skipped_unavailable', 'skipped_not_approved')`;

const TRUTH_SQL = `
select
  (select count(*) from session_requests r where ${PRIORITY})::int as total_priority_requests,
  (select count(*) from session_requests r where ${PRIORITY} and r.fallback_reason = 'priority_timeout')::int
    as timed_out,
  (select count(*) from session_requests r where ${PRIORITY} and r.broadcast_at is not null
     and r.fallback_reason in ('priority_timeout', 'priority_declined', 'priority_unavailable'))::int as total_fallbacks,
  (select count(*) from session_requests r where ${PRIORITY} and r.broadcast_at is not null
     and r.fallback_reason in ('priority_timeout', 'priority_declined', 'priority_unavailable')
     and r.status = 'accepted')::int as accepted_after_fallback,
  (select coalesce(json_agg(json_build_object('mechanic_id', mechanic_id, 'total', n, 'accepted', a)
                   order by mechanic_id), '[]')
   from (select mechanic_id, count(*)::int n, count(*) filter (where accepted)::int a
         from (${OFFERS}) p group by mechanic_id) s) as by_mechanic,
  (select count(distinct request_id) from (${SKIPPED}) s)::int as requests_with_skips,
  (select coalesce(json_agg(json_build_object('mechanic_id', mechanic_id, 'skipped', n,
                     'skipped_unavailable', u, 'skipped_not_approved', na) order by mechanic_id), '[]')
   from (select mechanic_id, count(*)::int n, count(*) filter (where outcome = 'skipped_unavailable')::int u,
                count(*) filter (where outcome = 'skipped_not_approved')::int na
         from (${SKIPPED}) s group by mechanic_id) k) as skipped_by_mechanic`;

interface Truth {
  total_priority_requests: number;
  timed_out: number;
  total_fallbacks: number;
  accepted_after_fallback: number;
  by_mechanic: { mechanic_id: string; total: number; accepted: number }[];
  requests_with_skips: number;
  skipped_by_mechanic: {
    mechanic_id: string;
    skipped: number;
    skipped_unavailable: number;
    skipped_not_approved: number;
  }[];
}

/** The analytics projection and reports against the requests (see the top of this file). */
export async function checkAnalytics(sql: pg.Pool, report: (path: string) => Promise<unknown>): Promise<Violation[]> {
  const f = new Findings();
  const { rows: diverged } = await sql.query(
    `select r.id, r.status, f.status as fact_status
     from session_requests r
     left join analytics_request_facts f on f.request_id = r.id
     where f.request_id is null
        or (r.status, r.mechanic_id, r.broadcast_at, r.fallback_reason, r.priority_notified_at)
           is distinct from (f.status, f.mechanic_id, f.broadcast_at, f.fallback_reason, f.priority_notified_at)`,
  );
  f.add('analytics fact differs from the request', diverged);
  // A sequence's tiers: each stored one has its fact, equal to it, and no fact names another.
  const { rows: tiers } = await sql.query(
    `select coalesce(o.request_id, a.request_id) as request_id, coalesce(o.tier, a.tier) as tier,
            o.outcome, a.outcome as fact_outcome
     from session_request_offers o
     full join (select a.* from analytics_offer_facts a
                join session_requests r on r.id = a.request_id and r.routing_type = 'priority_sequence') a
       on a.request_id = o.request_id and a.tier = o.tier
     where o.request_id is null or a.request_id is null
        or (o.mechanic_id, o.offered_at, o.expires_at, o.outcome)
           is distinct from (a.mechanic_id, a.offered_at, a.expires_at, a.outcome)`,
  );
  f.add("analytics tier fact differs from the sequence's tier", tiers);

  const truth = (await sql.query<Truth>(TRUTH_SQL)).rows[0] as Truth;
  const timeout = (await report('/v1/analytics/priority/timeout-rate')) as Record<string, number>;
  const fallback = (await report('/v1/analytics/priority/fallback-effectiveness')) as Record<string, number>;
  const success = (await report('/v1/analytics/priority/success-rate?min_requests=1')) as {
    mechanic_id: string;
    total_priority_requests: number;
    accepted_by_preferred: number;
  }[];
  const skips = (await report('/v1/analytics/priority/skips')) as {
    priority_requests: number;
    requests_with_skips: number;
    by_mechanic: Truth['skipped_by_mechanic'];
  };
  const byId = <T extends { mechanic_id: string }>(rows: T[]) =>
    [...rows].sort((a, b) => a.mechanic_id.localeCompare(b.mechanic_id));
  const differ = (name: string, api: unknown, db: unknown) =>
    JSON.stringify(api) === JSON.stringify(db) ? [] : [{ report: name, api, truth: db }];
  f.add('analytics report differs from the requests', [
    ...differ(
      'timeout-rate',
      { total: timeout.total_priority_requests, timed_out: timeout.timed_out },
      { total: truth.total_priority_requests, timed_out: truth.timed_out },
    ),
    ...differ(
      'fallback-effectiveness',
      { total: fallback.total_fallbacks, accepted: fallback.accepted_after_fallback },
      { total: truth.total_fallbacks, accepted: truth.accepted_after_fallback },
    ),
    ...differ(
      'success-rate',
      byId(
        success.map((s) => ({
          mechanic_id: s.mechanic_id,
          total: s.total_priority_requests,
          accepted: s.accepted_by_preferred,
        })),
      ),
      byId(truth.by_mechanic),
    ),
    ...differ(
      'skips',
      {
        priority_requests: skips.priority_requests,
        requests_with_skips: skips.requests_with_skips,
        by_mechanic: byId(
          skips.by_mechanic.map(({ mechanic_id, skipped, skipped_unavailable, skipped_not_approved }) => ({
            mechanic_id,
            skipped,
            skipped_unavailable,
            skipped_not_approved,
          })),
        ),
      },
      {
        priority_requests: truth.total_priority_requests,
        requests_with_skips: truth.requests_with_skips,
        by_mechanic: byId(truth.skipped_by_mechanic),
      },
    ),
  ]);
  return f.violations;
}
