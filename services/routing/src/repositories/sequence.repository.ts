import type { Sql } from '@dibs/db';
import type { SequenceStep } from '../domain/rules/sequence.js';

// A sequence's tiers (CONTRACT §6) in `session_request_offers`: one row per tier reached, its
// stored `expires_at` the tier's deadline. Steps are written by the caller holding the request's
// row lock, after a fresh read; every statement is still guarded by the state it changes, so a
// step can never be written twice.

/** Whether any tier's deadline has passed: the first entry of the open-tiers index, read alone. */
export async function anyTierDue(db: Sql, now: Date): Promise<boolean> {
  // Not `… where expires_at <= $1 limit 1`: its generic plan (prepared statements switch to it)
  // is a sequential scan stopping at the first match, which reads every open tier when none is
  // due, at each wake of the sweeper. `min()` of the partial index needs no parameter.
  const deadline = await nextTierDeadline(db);
  return deadline !== null && deadline <= now.getTime();
}

/** The earliest deadline of an open tier (epoch ms), or null when none is open. */
export async function nextTierDeadline(db: Sql): Promise<number | null> {
  const { rows } = await db.query<{ deadline: Date | string | null }>({
    name: 'routing-next-tier-deadline',
    text: 'select min(expires_at) as deadline from session_request_offers where outcome is null',
    values: [],
  });
  const deadline = rows[0]?.deadline;
  return deadline ? new Date(deadline).getTime() : null;
}

/**
 * Up to `limit` requests with a tier past its deadline, locked for the rest of the transaction;
 * requests another replica (or a decline) holds right now are skipped, it is deciding them.
 */
export async function lockDueSequences(tx: Sql, now: Date, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>({
    name: 'routing-lock-due-sequences',
    // `= any(array(…))`, not `in (…)`: the generic plan of `in` hash-joins a sequential scan of
    // every request; an array probes the primary key once per due tier.
    text: `select r.id from session_requests r
      where r.id = any(array(select o.request_id from session_request_offers o
                             where o.outcome is null and o.expires_at <= $1 order by o.expires_at limit $2))
      order by r.id for update skip locked`,
    values: [now, limit],
  });
  return rows.map((r) => r.id);
}

/** Open tiers right now (for /metrics). */
export async function countOpenTiers(db: Sql): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'select count(*) as n from session_request_offers where outcome is null',
  );
  return Number(rows[0]?.n ?? 0);
}

// One statement for a whole batch of steps: end the open tiers, record the skipped ones, open the
// next ones (and the first offer's time on the request), broadcast the sequences that ran out.
// Every row is reached by its key. The guards are written so that they name no partial index's
// predicate: `o.ended_at is null` (the same as `outcome is null`, by the table's check) and
// `r.status not in ('accepted', 'cancelled')` (the same as 'pending'). Written as the predicates of
// the open-tiers and pending-requests indexes, they let the planner, which takes those indexes for
// small where statistics lag, read all of one (every open tier, every pending request) per batch
// and join it with the batch (bench:windows, sequences: 100 000 entries a batch, ~10 times a second).
const WRITE_STEPS_SQL = `
with closed as (
  update session_request_offers o set outcome = x.outcome, ended_at = $1
  from unnest($2::uuid[], $3::int[], $4::text[]) as x(id, tier, outcome)
  where o.request_id = x.id and o.tier = x.tier and o.ended_at is null
  returning o.request_id
), added as (
  insert into session_request_offers (request_id, tier, mechanic_id, window_minutes, offered_at, expires_at, outcome,
                                      ended_at)
  select x.id, x.tier, x.m, x.w, case when x.outcome is null then $1::timestamptz end, x.e, x.outcome,
         case when x.outcome is null then null else $1::timestamptz end
  from unnest($5::uuid[], $6::int[], $7::uuid[], $8::int[], $9::timestamptz[], $10::text[]) as x(id, tier, m, w, e, outcome)
  on conflict (request_id, tier) do nothing
  returning request_id
), offered as (
  update session_requests r set priority_notified_at = coalesce(r.priority_notified_at, $1), updated_at = $1
  where r.id = any($11::uuid[]) and r.status not in ('accepted', 'cancelled') and r.broadcast_at is null
  returning r.id
), broadcast as (
  update session_requests r set broadcast_at = $1, fallback_reason = x.reason, updated_at = $1
  from unnest($12::uuid[], $13::text[]) as x(id, reason)
  where r.id = x.id and r.status not in ('accepted', 'cancelled') and r.broadcast_at is null
  returning r.id
)
select (select count(*) from closed) + (select count(*) from added) + (select count(*) from offered)
  + (select count(*) from broadcast) as changed`;

/** Writes the steps decided for locked requests, at `now`. */
export async function writeSequenceSteps(
  tx: Sql,
  steps: { id: string; step: SequenceStep }[],
  now: Date,
): Promise<void> {
  const closed = steps.filter((s) => s.step.close !== null);
  const added = steps.flatMap(({ id, step }) => [
    ...step.skip.map((k) => ({ id, tier: k.tier, m: k.mechanicId, w: k.windowMinutes, e: null, outcome: k.outcome })),
    ...(step.open
      ? [
          {
            id,
            tier: step.open.tier,
            m: step.open.mechanicId,
            w: step.open.windowMinutes,
            e: new Date(step.open.expiresAt),
            outcome: null,
          },
        ]
      : []),
  ]);
  const broadcast = steps.filter((s) => s.step.broadcast !== null);
  await tx.query({
    // Planned each time, not prepared: the generic plan of these CTEs, made on small tables, joins
    // the batch with every pending request and every open tier (bench:windows, docs/benchmarks.md);
    // a custom plan probes the keys (0.09 ms against 5 ms and worse as the tables grow).
    text: WRITE_STEPS_SQL,
    values: [
      now,
      closed.map((s) => s.id),
      closed.map((s) => s.step.close?.tier),
      closed.map((s) => s.step.close?.outcome),
      added.map((a) => a.id),
      added.map((a) => a.tier),
      added.map((a) => a.m),
      added.map((a) => a.w),
      added.map((a) => a.e),
      added.map((a) => a.outcome),
      steps.filter((s) => s.step.open !== null).map((s) => s.id),
      broadcast.map((s) => s.id),
      broadcast.map((s) => s.step.broadcast),
    ],
  });
}

/**
 * Ends a sequence's open tier, if any, because the request was accepted (by `mechanicId`, whose
 * tier it must be) or cancelled (`mechanicId` null: whoever's it is).
 */
export async function endOpenTier(
  tx: Sql,
  id: string,
  outcome: 'accepted' | 'withdrawn',
  at: Date,
  mechanicId: string | null,
): Promise<boolean> {
  const { rowCount } = await tx.query({
    name: 'routing-end-open-tier',
    text: `update session_request_offers set outcome = $2, ended_at = $3
           where request_id = $1 and outcome is null and ($4::uuid is null or mechanic_id = $4)`,
    values: [id, outcome, at, mechanicId],
  });
  return Boolean(rowCount);
}
