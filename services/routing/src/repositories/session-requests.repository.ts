import type { FallbackReason, MechanicStatus, RequestStatus, RoutingType } from '@dibs/contracts';
import { type OutboxEntry, payloadJson, type SessionRequestRecord, type Sql, sessionRequestColumns } from '@dibs/db';
import type { MechanicState, RequestState, TierPlan } from '../domain/request-state.js';
import { ACCEPT_GUARD_SQL } from '../domain/rules/accept.js';
import { type BroadcastTrigger, broadcastGuardSql, windowDueSql } from '../domain/rules/broadcast.js';

/** A row as read by routing: the contract columns, a sequence's plan and offers, and who declined it. */
export interface RequestRow extends SessionRequestRecord {
  declined: string[];
  priority_tiers?: TierPlan[] | null;
  /** The plan's price when the request was accepted (CONTRACT §7); null before, or for an unknown plan. */
  price_cents?: number | null;
  currency?: string | null;
}

const COLUMNS = `${sessionRequestColumns('r')}, r.priority_tiers, r.price_cents, r.currency`;
const DECLINED = `coalesce((select array_agg(d.mechanic_id::text) from session_request_declines d
  where d.request_id = r.id), '{}') as declined`;

/** The decision's view of a row (instants as epoch ms). */
export function toState(row: SessionRequestRecord & Pick<RequestRow, 'priority_tiers'>): RequestState {
  return {
    id: row.id,
    customer_id: row.customer_id,
    status: row.status as RequestStatus,
    routing_type: row.routing_type as RoutingType,
    preferred_mechanic_id: row.preferred_mechanic_id,
    preferred_workshop_id: row.preferred_workshop_id,
    priority_window_minutes: Number(row.priority_window_minutes),
    priority_notified_at: ms(row.priority_notified_at),
    priority_expires_at: ms(row.priority_expires_at),
    broadcast_at: ms(row.broadcast_at),
    mechanic_id: row.mechanic_id,
    priority_tiers: row.priority_tiers ?? null,
    offers: (row.offers ?? []).map((o) => ({
      tier: Number(o.tier),
      mechanic_id: o.mechanic_id,
      offered_at: ms(o.offered_at),
      expires_at: ms(o.expires_at),
      outcome: o.outcome,
    })),
  };
}

function ms(value: Date | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).getTime();
}

export interface RoutingContext {
  row: RequestRow;
  mechanic: MechanicState | null;
}

/** Several requests' routing contexts in one round trip, by id (absent ids are missing). */
export async function loadRoutingContexts(db: Sql, ids: string[]): Promise<Map<string, RoutingContext>> {
  const { rows } = await db.query<RequestRow & { m_id: string | null; m_status: string | null }>({
    // Not a named (prepared) statement: a generic plan made while the table was small is a
    // sequential scan filtering `id = any($1)`, kept for the connection's life where statistics
    // lag (autovacuum off, a burst of inserts). Planned each time (~0.3 ms a batch), it probes the key.
    text: `select ${COLUMNS}, ${DECLINED}, m.id as m_id, m.status as m_status
     from session_requests r left join mechanics m on m.id = r.preferred_mechanic_id
     where r.id = any($1::uuid[])`,
    values: [ids],
  });
  const out = new Map<string, RoutingContext>();
  for (const { m_id, m_status, ...row } of rows) {
    out.set(row.id, { row, mechanic: m_id ? { id: m_id, status: m_status as MechanicStatus } : null });
  }
  return out;
}

/** A request, locked for the rest of the transaction (commands decide on it, then write). */
export async function lockRequest(tx: Sql, id: string): Promise<RequestRow | null> {
  const { rows } = await tx.query<RequestRow>({
    name: 'routing-lock-request',
    text: `select ${COLUMNS}, ${DECLINED} from session_requests r where r.id = $1 for update`,
    values: [id],
  });
  return rows[0] ?? null;
}

/** A request as it is now, with its decliners. */
export async function findRequest(db: Sql, id: string): Promise<RequestRow | null> {
  const { rows } = await db.query<RequestRow>({
    name: 'routing-find-request',
    text: `select ${COLUMNS}, ${DECLINED} from session_requests r where r.id = $1`,
    values: [id],
  });
  return rows[0] ?? null;
}

export async function findMechanic(db: Sql, id: string): Promise<MechanicState | null> {
  const { rows } = await db.query<{ id: string; status: MechanicStatus }>(
    'select id, status from mechanics where id = $1',
    [id],
  );
  return rows[0] ?? null;
}

/** Rows `FOR UPDATE` in id order, so that transactions writing several requests never deadlock. */
export async function lockRequests(tx: Sql, ids: string[]): Promise<void> {
  await tx.query('select id from session_requests where id = any($1::uuid[]) order by id for update', [ids]);
}

export interface OfferItem {
  id: string;
  /** The preferred mechanic the decision offered the request to. */
  mechanicId: string;
  /**
   * Whether the decision read the mechanic's availability. When it did not (the fast path, from
   * the event alone), the write checks that the mechanic is available whatever the clock says: no
   * `available: false`, no schedule, and `skip_offline_favorites` off; otherwise it opens nothing
   * and the caller reads and decides again.
   */
  availabilityChecked: boolean;
  notifiedAt: Date;
  expiresAt: Date;
  /** What the offer tells the world; written to the outbox only if the window opens. */
  messages: OutboxEntry[];
}

// One statement, so one round trip and one commit for a whole batch of offers. Each guard
// re-checks, at the moment of writing, what the decision assumed: the request is pending, was
// never offered nor broadcast, still prefers the mechanic decided on, who is still approved and
// has not declined it. A redelivered `created` event therefore cannot open a second window, and
// a decision made on a stale view opens none (the caller then reads the row and decides again).
// Messages are inserted only for the windows the UPDATE opened.
const OPEN_WINDOWS_SQL = `
with opened as (
  update session_requests r set priority_notified_at = x.n, priority_expires_at = x.e, updated_at = x.n
  from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $6::boolean[]) as x(id, m, n, e, checked)
  where r.id = x.id and r.status = 'pending' and r.priority_notified_at is null and r.broadcast_at is null
    and r.preferred_mechanic_id = x.m
    and exists (select 1 from mechanics m where m.id = x.m and m.status = 'approved')
    and not exists (select 1 from session_request_declines d where d.request_id = r.id and d.mechanic_id = x.m)
    and (x.checked or (
      not exists (select 1 from mechanic_availability a
                  where a.mechanic_id = x.m and (not a.available or a.schedule is not null))
      and not coalesce((select s.skip_offline_favorites from priority_settings s), false)))
  returning r.id
), queued as (
  insert into outbox (id, subject, payload)
  select (q->>'id')::uuid, q->>'subject', q->'payload'
  from jsonb_array_elements($5::jsonb) as q
  where (q->>'request_id')::uuid in (select id from opened)
)
select id from opened`;

/**
 * Opens priority windows and queues their messages atomically (see the guards above). `items`
 * must name each request once. Rows are updated in id order; two replicas offering the same
 * request at once (a redelivery racing the first delivery) is rare, and should it deadlock,
 * PostgreSQL aborts one statement (40P01), which the caller retries. Returns the ids opened.
 */
export async function openPriorityWindows(db: Sql, items: OfferItem[]): Promise<Set<string>> {
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // The messages as one JSON array built around their already serialized payloads: no array
  // literal to escape, no payload stringified twice.
  const messages = `[${sorted
    .flatMap((i) =>
      i.messages.map(
        (m) =>
          `{"request_id":"${i.id}","id":"${m.id}","subject":${JSON.stringify(m.subject)},"payload":${payloadJson(m)}}`,
      ),
    )
    .join(',')}]`;
  const { rows } = await db.query<{ id: string }>({
    // Prepared once per connection: the hottest statement of routing skips parse and plan.
    name: 'routing-open-priority-windows',
    text: OPEN_WINDOWS_SQL,
    values: [
      sorted.map((i) => i.id),
      sorted.map((i) => i.mechanicId),
      sorted.map((i) => i.notifiedAt),
      sorted.map((i) => i.expiresAt),
      messages,
      sorted.map((i) => i.availabilityChecked),
    ],
  });
  return new Set(rows.map((r) => r.id));
}

export interface BroadcastItem {
  id: string;
  reason: FallbackReason | null;
  at: Date;
}

/**
 * Broadcasts requests once: sets `broadcast_at` and the reason where the trigger's guard still
 * holds (domain/rules/broadcast.ts), so that whichever decider comes second finds nothing to do.
 */
export async function markBroadcast(tx: Sql, items: BroadcastItem[], trigger: BroadcastTrigger): Promise<RequestRow[]> {
  const { rows } = await tx.query<RequestRow>(
    `update session_requests r set broadcast_at = greatest(x.at, r.priority_notified_at), fallback_reason = x.reason,
       updated_at = greatest(x.at, r.priority_notified_at)
     from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as x(id, at, reason)
     where r.id = x.id and ${broadcastGuardSql(trigger, 'r', 'x.at')}
     returning ${COLUMNS}, ${DECLINED}`,
    [items.map((i) => i.id), items.map((i) => i.at), items.map((i) => i.reason)],
  );
  return rows;
}

/** The earliest deadline of an open window (epoch ms), or null when none is open: the first entry of its index. */
export async function nextWindowDeadline(db: Sql): Promise<number | null> {
  const { rows } = await db.query<{ deadline: Date | null }>({
    name: 'routing-next-window-deadline',
    text: `select min(priority_expires_at) as deadline from session_requests
           where status = 'pending' and broadcast_at is null and priority_expires_at is not null`,
    values: [],
  });
  const deadline = rows[0]?.deadline;
  return deadline ? new Date(deadline).getTime() : null;
}

/** Whether any window's deadline has passed (one indexed read, no transaction: the sweeper's usual answer is no). */
export async function anyWindowDue(db: Sql, now: Date): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'routing-any-window-due',
    text: `select 1 from session_requests d where ${windowDueSql('d', '$1')} limit 1`,
    values: [now],
  });
  return Boolean(rowCount);
}

/**
 * Broadcasts up to `limit` windows whose deadline has passed (`priority_timeout`, the rule
 * `windowDue` of domain/rules/broadcast.ts), skipping rows
 * another replica is handling right now. Reads only the open-windows index.
 */
export async function broadcastDueWindows(tx: Sql, now: Date, limit: number): Promise<RequestRow[]> {
  const { rows } = await tx.query<RequestRow>({
    name: 'routing-broadcast-due-windows',
    text: `with due as (
       select id from session_requests d
       where ${windowDueSql('d', '$1')}
       order by priority_expires_at
       limit $2
       for update skip locked)
     update session_requests r set broadcast_at = $1, fallback_reason = 'priority_timeout', updated_at = $1
     from due where r.id = due.id
     returning ${COLUMNS}, ${DECLINED}`,
    values: [now, limit],
  });
  return rows;
}

/**
 * The one statement that decides an accept (the rule: domain/rules/accept.ts). Row
 * locking makes concurrent accepts queue on the request; each re-checks `status = 'pending'`
 * after the one before it committed, so exactly one wins.
 */
export async function markAccepted(tx: Sql, id: string, mechanicId: string, now: Date): Promise<RequestRow | null> {
  const { rows } = await tx.query<RequestRow>({
    name: 'routing-mark-accepted',
    // The accept's time is read before the statement; when it waited on the row lock for a
    // broadcast (or an offer) to commit, it is clamped so that it never precedes that change.
    // The price is the plan's at this instant (intake's `plans`, ADR 013 §9): what the accept earned.
    text: `update session_requests r set status = 'accepted', mechanic_id = $2,
       price_cents = (select p.price_cents from plans p where p.code = r.plan_code),
       currency = (select p.currency from plans p where p.code = r.plan_code),
       accepted_at = greatest($3::timestamptz, r.broadcast_at, r.priority_notified_at),
       updated_at = greatest($3::timestamptz, r.broadcast_at, r.priority_notified_at)
     where r.id = $1 and ${ACCEPT_GUARD_SQL}
     returning ${COLUMNS}, ${DECLINED}`,
    values: [id, mechanicId, now],
  });
  return rows[0] ?? null;
}

export async function insertDecline(tx: Sql, id: string, mechanicId: string, now: Date): Promise<void> {
  await tx.query(
    `insert into session_request_declines (request_id, mechanic_id, created_at) values ($1, $2, $3)
     on conflict do nothing`,
    [id, mechanicId, now],
  );
}

export async function markCancelled(tx: Sql, id: string, now: Date): Promise<RequestRow | null> {
  const { rows } = await tx.query<RequestRow>({
    name: 'routing-mark-cancelled',
    text: `update session_requests r set status = 'cancelled',
       cancelled_at = greatest($2::timestamptz, r.broadcast_at, r.priority_notified_at),
       updated_at = greatest($2::timestamptz, r.broadcast_at, r.priority_notified_at)
     where r.id = $1 and r.status = 'pending'
     returning ${COLUMNS}, ${DECLINED}`,
    values: [id, now],
  });
  return rows[0] ?? null;
}

/** Open priority windows right now (for /metrics). */
export async function countOpenWindows(db: Sql): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select count(*) as n from session_requests
     where status = 'pending' and broadcast_at is null and priority_expires_at is not null`,
  );
  return Number(rows[0]?.n ?? 0);
}
