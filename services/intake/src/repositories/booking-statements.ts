import { type OutboxEntry, payloadJson, type SessionRequestRecord, type Statement } from '@dibs/db';
import { experimentArmSql } from '../domain/experiment-arm.js';

/**
 * A booking in one atomic statement: the request row and its `request.created` row in intake's
 * outbox (no BEGIN/COMMIT round trips), inserted only when the customer has not used the
 * Idempotency-Key. It also decides, from the settings as they are at this instant:
 * - the experiment arm (CONTRACT §7): while an experiment is active, a single-priority request
 *   (`priority_broadcast`, a preferred mechanic, no workshop) whose mechanic has no window of its
 *   own is enrolled in the arm `experimentArm` picks for the customer (`x`); the unique index
 *   `experiments_one_active` makes `x` at most one row;
 * - the window (CONTRACT §6): the preferred mechanic's own, else the arm's, else
 *   `priority_settings`' default, else `$10` (PRIORITY_WINDOW_MINUTES).
 * The event was serialized before either was known, so when they differ from what it says the
 * outbox row gets them patched in (`jsonb_set`); the statement returns what it stored, and the
 * caller patches its own copy of the event alike.
 */
const INSERT_BOOKING_SQL = `with x as (
         select e.key, ${experimentArmSql('$2::uuid', 'e.key', 'e.arms')} as arm
         from experiments e join mechanics m on m.id = $8::uuid and m.priority_window_minutes is null
         where e.active and $7::text = 'priority_broadcast' and $9::uuid is null),
       w as (
         select coalesce(
           (select m.priority_window_minutes from mechanics m where m.id = $8::uuid),
           (select (x.arm ->> 'window_minutes')::integer from x),
           (select s.default_window_minutes from priority_settings s),
           $10::integer) as minutes),
       sr as (
         insert into session_requests (id, customer_id, customer_name, customer_email, session_type, plan_code,
           status, routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes,
           experiment_key, experiment_arm, idempotency_key, request_hash, created_at, updated_at)
         select $1::uuid, $2::uuid, $3::text, $4::text, $5::text, $6::text, 'pending', $7::text, $8::uuid, $9::uuid,
           w.minutes, x.key, x.arm ->> 'name', $11::text, $12::text, $13::timestamptz, $13::timestamptz
         from w left join x on true
         on conflict (customer_id, idempotency_key) do nothing
         returning id, preferred_mechanic_id, priority_window_minutes, experiment_key, experiment_arm),
       queued as (
         insert into intake_outbox (id, subject, payload)
         select $14, $15, case when sr.priority_window_minutes = $10::integer and sr.experiment_key is null then $16::jsonb
           else jsonb_set(
             jsonb_set($16::jsonb, '{request,priority_window_minutes}', to_jsonb(sr.priority_window_minutes)),
             '{request,experiment}',
             case when sr.experiment_key is null then 'null'::jsonb
               else jsonb_build_object('key', sr.experiment_key, 'arm', sr.experiment_arm) end) end
         from sr
         returning id)
       select sr.preferred_mechanic_id, sr.priority_window_minutes, sr.experiment_key, sr.experiment_arm
       from sr, queued`;

/**
 * A `priority_sequence` booking (CONTRACT §6), as atomic as the one above, its plan decided from
 * the customer's ranks and the settings in force at this instant (one snapshot), so a change of
 * either governs the very next booking and the request keeps its plan (`priority_tiers`) forever:
 * - the tiers are the customer's ranked favorites in rank order, at most 3, numbered 1…n by
 *   position (a mechanic deleted by an admin leaves a gap in the ranks, not in the tiers). Every
 *   ranked favorite is planned whatever its status: routing skips one that is not approved.
 * - tier i (1-based) gets the mechanic's own window, else `tier_windows_minutes[min(i, n)]` for
 *   n windows: the last window repeats when there are more ranked favorites than windows. `$9`
 *   (PRIORITY_WINDOW_MINUTES) stands in only if the settings row were missing.
 * - the rank-1 mechanic becomes `preferred_mechanic_id`, tier 1's window `priority_window_minutes`;
 *   the outbox row's event gets both patched in, as stored.
 * No ranked favorite: no plan, nothing inserted, no row returned (so is a used Idempotency-Key).
 */
const INSERT_SEQUENCE_BOOKING_SQL = `with s as (select tier_windows_minutes as windows from priority_settings),
       ranked as (
         select f.mechanic_id, m.priority_window_minutes as own, (row_number() over (order by f.rank))::integer as tier
         from favorites f join mechanics m on m.id = f.mechanic_id
         where f.customer_id = $2::uuid and f.rank is not null
         order by f.rank
         limit 3),
       tiers as (
         select r.tier, r.mechanic_id,
           coalesce(r.own, s.windows[least(r.tier, cardinality(s.windows))], $9::integer) as minutes
         from ranked r left join s on true),
       plan as (
         select (array_agg(mechanic_id order by tier))[1] as mechanic_id, (array_agg(minutes order by tier))[1] as minutes,
           jsonb_agg(jsonb_build_object('mechanic_id', mechanic_id, 'window_minutes', minutes) order by tier) as tiers
         from tiers
         having count(*) > 0),
       sr as (
         insert into session_requests (id, customer_id, customer_name, customer_email, session_type, plan_code,
           status, routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes, priority_tiers,
           idempotency_key, request_hash, created_at, updated_at)
         select $1::uuid, $2::uuid, $3::text, $4::text, $5::text, $6::text, 'pending', $7::text, plan.mechanic_id, $8::uuid,
           plan.minutes, plan.tiers, $10::text, $11::text, $12::timestamptz, $12::timestamptz
         from plan
         on conflict (customer_id, idempotency_key) do nothing
         returning id, preferred_mechanic_id, priority_window_minutes, experiment_key, experiment_arm),
       queued as (
         insert into intake_outbox (id, subject, payload)
         select $13, $14, jsonb_set(
             jsonb_set($15::jsonb, '{request,preferred_mechanic_id}', to_jsonb(sr.preferred_mechanic_id)),
             '{request,priority_window_minutes}', to_jsonb(sr.priority_window_minutes))
         from sr
         returning id)
       select sr.preferred_mechanic_id, sr.priority_window_minutes, sr.experiment_key, sr.experiment_arm
       from sr, queued`;

/** What a booking statement stored that the caller did not know beforehand; no row: nothing stored. */
export interface StoredBooking {
  preferred_mechanic_id: string | null;
  priority_window_minutes: number;
  /** The experiment arm the request was enrolled in, both or neither (a sequence: never). */
  experiment_key: string | null;
  experiment_arm: string | null;
}

/**
 * A named statement with its values as a plain array: `sqlOf(…).query` runs it, and so does a bare
 * `pg` pool (bench:intake's baseline route runs the very statement intake runs).
 */
export type BookingStatement = Statement & { name: string; values: unknown[] };

/** Idempotency fields of a booking. */
interface Idempotency {
  key: string | null;
  hash: string;
}

// Both statements take the request's own fields as $1–$7 and end with what is stored beside it:
// the idempotency fields, the creation time and the outbox row of its `created` event.
function requestValues(record: SessionRequestRecord): unknown[] {
  const { id, customer_id, customer_name, customer_email, session_type, plan_code, routing_type } = record;
  return [id, customer_id, customer_name, customer_email, session_type, plan_code, routing_type];
}
function storedValues(createdAt: Date, idempotency: Idempotency, event: OutboxEntry): unknown[] {
  return [idempotency.key, idempotency.hash, createdAt, event.id, event.subject, payloadJson(event)];
}

/**
 * The booking statement for `record`, its idempotency fields and its `created` event. A named
 * statement: each connection parses and plans it once (the hottest statement of intake).
 */
export function bookingStatement(
  record: SessionRequestRecord & { created_at: Date },
  idempotency: Idempotency,
  event: OutboxEntry,
): BookingStatement {
  return {
    name: 'intake-book',
    text: INSERT_BOOKING_SQL,
    values: [
      ...requestValues(record),
      record.preferred_mechanic_id,
      record.preferred_workshop_id,
      record.priority_window_minutes,
      ...storedValues(record.created_at, idempotency, event),
    ],
  };
}

/**
 * The booking statement of a `priority_sequence` request: `record`'s preferred mechanic and window
 * are decided by the statement (see INSERT_SEQUENCE_BOOKING_SQL); `record.priority_window_minutes`
 * is PRIORITY_WINDOW_MINUTES.
 */
export function sequenceBookingStatement(
  record: SessionRequestRecord & { created_at: Date },
  idempotency: Idempotency,
  event: OutboxEntry,
): BookingStatement {
  return {
    name: 'intake-book-sequence',
    text: INSERT_SEQUENCE_BOOKING_SQL,
    values: [
      ...requestValues(record),
      record.preferred_workshop_id,
      record.priority_window_minutes,
      ...storedValues(record.created_at, idempotency, event),
    ],
  };
}
