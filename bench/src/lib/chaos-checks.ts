import { type EventKind, natsNames } from '@dibs/contracts';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { CustomerLog, MechanicLog } from './chaos-actors.js';

/** A session request as the database holds it at the end of the run. */
export interface Row {
  id: string;
  status: 'pending' | 'accepted' | 'cancelled';
  preferred_mechanic_id: string | null;
  priority_notified_at: Date | null;
  priority_expires_at: Date | null;
  broadcast_at: Date | null;
  fallback_reason: string | null;
  mechanic_id: string | null;
  accepted_at: Date | null;
  cancelled_at: Date | null;
}

export async function readRows(sql: pg.Pool): Promise<Row[]> {
  const { rows } = await sql.query<Row>(
    `select id, status, preferred_mechanic_id, priority_notified_at, priority_expires_at, broadcast_at,
            fallback_reason, mechanic_id, accepted_at, cancelled_at
     from session_requests`,
  );
  return rows;
}

/** One lifecycle event as the EVENTS stream holds it. */
export interface StoredEvent {
  id: string;
  kind: EventKind;
  requestId: string;
  actor: string | null;
}

/** Every message of the EVENTS stream, read with an ordered consumer (the stream is small). */
export async function readEvents(
  nc: NatsConnection,
  prefix: string,
): Promise<{ events: StoredEvent[]; messages: number }> {
  const names = natsNames(prefix);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.streams.events);
  const events: StoredEvent[] = [];
  if (info.state.messages === 0) return { events, messages: 0 };
  const consumer = await jetstream(nc).consumers.get(names.streams.events, {
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const e = m.json<{ id: string; kind: EventKind; request: { id: string }; actor_mechanic_id?: string | null }>();
    events.push({ id: e.id, kind: e.kind, requestId: e.request.id, actor: e.actor_mechanic_id ?? null });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return { events, messages: events.length };
}

/** Whether nothing is left in flight: both outboxes published, both durable consumers caught up, no window open. */
export async function settled(sql: pg.Pool, nc: NatsConnection, prefix: string): Promise<string | undefined> {
  const names = natsNames(prefix);
  const jsm = await jetstreamManager(nc);
  const { rows } = await sql.query<{ outbox: number; open: number }>(
    `select (select count(*) from intake_outbox)::int + (select count(*) from outbox)::int as outbox,
            (select count(*) from session_requests
             where status = 'pending' and broadcast_at is null and priority_expires_at is not null)::int as open`,
  );
  const { outbox, open } = rows[0] as { outbox: number; open: number };
  if (outbox > 0) return `${outbox} outbox rows unpublished`;
  if (open > 0) return `${open} priority windows open`;
  for (const consumer of [names.consumers.routingCreated, names.consumers.analytics]) {
    const c = await jsm.consumers.info(names.streams.events, consumer);
    if (c.num_pending + c.num_ack_pending > 0)
      return `${consumer}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged`;
  }
  return undefined;
}

/** A broken invariant: what, how many times, and a few examples. */
export interface Violation {
  check: string;
  count: number;
  examples: unknown[];
}

class Findings {
  readonly violations: Violation[] = [];
  add(check: string, examples: unknown[]): void {
    if (examples.length > 0) this.violations.push({ check, count: examples.length, examples: examples.slice(0, 5) });
  }
}

export interface CheckInput {
  rows: Row[];
  events: StoredEvent[];
  customers: CustomerLog;
  mechanics: MechanicLog;
  /** Whether a routing replica was ready through the whole of [from, to] (epoch ms). */
  routingUpThrough(from: number, to: number): boolean;
  /** How late after its deadline a window may be broadcast while routing is up. */
  lateToleranceMs: number;
}

export interface Figures {
  requests: number;
  priority: number;
  acceptedByPreferred: number;
  timedOut: number;
  declined: number;
  failed: number;
  broadcastPending: number;
  cancelled: number;
  /** Broadcast after the deadline, ms: the windows that ended by timing out. */
  lateness: { p50: number; p99: number; max: number; count: number };
  /** Timed-out windows whose deadline fell while no routing replica was up. */
  lateWhileRoutingDown: number;
}

/**
 * The invariants of ARCHITECTURE.md, checked on what the run left behind: the database rows, the
 * EVENTS stream and what the customers and mechanics were told.
 */
export function checkRun(input: CheckInput): { violations: Violation[]; figures: Figures } {
  const f = new Findings();
  const byId = new Map(input.rows.map((r) => [r.id, r]));
  const acknowledged = new Set(input.customers.acknowledged.map((b) => b.requestId));

  // No request lost: every booking the API acknowledged exists and was routed.
  f.add(
    'acknowledged booking missing from the database',
    [...acknowledged].filter((id) => !byId.has(id)),
  );
  // No booking doubled: a retried booking (same Idempotency-Key) is one row.
  const extra = input.rows.length - acknowledged.size - input.customers.abandoned;
  f.add('bookings doubled by retries', extra > 0 ? [{ rows: input.rows.length, acknowledged: acknowledged.size }] : []);
  f.add(
    'request stuck: pending, never broadcast, no window open',
    input.rows
      .filter(
        (r) =>
          r.status === 'pending' &&
          r.broadcast_at === null &&
          (r.priority_expires_at === null || r.priority_expires_at.getTime() < Date.now()),
      )
      .map((r) => r.id),
  );
  f.add('unexpected HTTP answers to customers', input.customers.unexpected);

  // Windows: never broadcast before the deadline unless declined; never taken by another
  // mechanic inside the window; on time while routing runs.
  const timedOut = input.rows.filter((r) => r.fallback_reason === 'priority_timeout');
  f.add(
    'window broadcast before its deadline',
    timedOut
      .filter((r) => r.broadcast_at && r.priority_expires_at && r.broadcast_at < r.priority_expires_at)
      .map((r) => r.id),
  );
  f.add(
    'another mechanic took the request inside the window',
    input.rows
      .filter(
        (r) =>
          r.status === 'accepted' &&
          r.priority_expires_at !== null &&
          r.mechanic_id !== r.preferred_mechanic_id &&
          r.accepted_at !== null &&
          (r.broadcast_at === null || r.accepted_at < r.broadcast_at),
      )
      .map((r) => r.id),
  );
  const lateMs: number[] = [];
  let lateWhileRoutingDown = 0;
  const late: unknown[] = [];
  for (const r of timedOut) {
    if (!r.broadcast_at || !r.priority_expires_at) continue;
    const deadline = r.priority_expires_at.getTime();
    const ms = r.broadcast_at.getTime() - deadline;
    if (!input.routingUpThrough(deadline, deadline + input.lateToleranceMs)) {
      lateWhileRoutingDown++;
      continue;
    }
    lateMs.push(ms);
    if (ms > input.lateToleranceMs) late.push({ id: r.id, lateMs: ms });
  }
  f.add(`window broadcast more than ${input.lateToleranceMs} ms late while routing was up`, late);

  // Exactly one winner: one accepted event, one mechanic told it won, and it is the row's.
  const kinds = new Map<string, Map<EventKind, Set<string>>>();
  for (const e of input.events) {
    const perKind = kinds.get(e.requestId) ?? new Map<EventKind, Set<string>>();
    const ids = perKind.get(e.kind) ?? new Set<string>();
    ids.add(e.id);
    perKind.set(e.kind, ids);
    kinds.set(e.requestId, perKind);
  }
  const count = (id: string, kind: EventKind) => kinds.get(id)?.get(kind)?.size ?? 0;
  for (const kind of ['created', 'priority_notified', 'broadcast', 'accepted', 'cancelled'] as const)
    f.add(
      `${kind} event told twice (two event ids for one change)`,
      input.rows.filter((r) => count(r.id, kind) > 1).map((r) => r.id),
    );
  f.add(
    'change never told (row changed, no event)',
    input.rows.flatMap((r) => {
      const missing = [
        count(r.id, 'created') === 0 && 'created',
        r.priority_notified_at && count(r.id, 'priority_notified') === 0 && 'priority_notified',
        r.broadcast_at && count(r.id, 'broadcast') === 0 && 'broadcast',
        r.status === 'accepted' && count(r.id, 'accepted') === 0 && 'accepted',
        r.status === 'cancelled' && count(r.id, 'cancelled') === 0 && 'cancelled',
      ].filter(Boolean);
      return missing.length ? [{ id: r.id, missing }] : [];
    }),
  );
  const winners: unknown[] = [];
  for (const [requestId, mechanics] of input.mechanics.wins) {
    const row = byId.get(requestId);
    if (mechanics.size > 1 || row?.status !== 'accepted' || !mechanics.has(row.mechanic_id as string))
      winners.push({
        requestId,
        toldWon: [...mechanics],
        row: row && { status: row.status, mechanic_id: row.mechanic_id },
      });
  }
  f.add('mechanic told it won but the request is not theirs', winners);
  f.add('the same frame twice on one connection', input.mechanics.repeatedFrames);
  f.add(
    'cancel answer contradicted by the request',
    input.customers.cancels
      .filter((c) => byId.get(c.requestId)?.status !== (c.status === 200 ? 'cancelled' : 'accepted'))
      .map((c) => ({ ...c, status_now: byId.get(c.requestId)?.status })),
  );

  const priority = input.rows.filter((r) => r.preferred_mechanic_id !== null && r.priority_notified_at !== null);
  lateMs.sort((a, b) => a - b);
  const q = (p: number) => lateMs[Math.min(lateMs.length - 1, Math.floor(p * lateMs.length))] ?? 0;
  return {
    violations: f.violations,
    figures: {
      requests: input.rows.length,
      priority: priority.length,
      acceptedByPreferred: priority.filter((r) => r.status === 'accepted' && r.mechanic_id === r.preferred_mechanic_id)
        .length,
      timedOut: timedOut.length,
      declined: input.rows.filter((r) => r.fallback_reason === 'priority_declined').length,
      failed: input.rows.filter((r) => r.fallback_reason === 'priority_failed').length,
      broadcastPending: input.rows.filter((r) => r.status === 'pending' && r.broadcast_at !== null).length,
      cancelled: input.rows.filter((r) => r.status === 'cancelled').length,
      lateness: { p50: q(0.5), p99: q(0.99), max: lateMs.at(-1) ?? 0, count: lateMs.length },
      lateWhileRoutingDown,
    },
  };
}

/**
 * The analytics projection against the source of truth: every request's fact matches its row,
 * and each report the admin API answers equals the seed's query run on `session_requests`.
 */
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

  // The seed's queries, on session_requests instead of the read model.
  const priority = `preferred_mechanic_id is not null and priority_notified_at is not null`;
  const byPreferred = `status = 'accepted' and mechanic_id = preferred_mechanic_id`;
  const truth = (
    await sql.query<Record<string, unknown>>(
      `select
         (select count(*) from session_requests where ${priority})::int as total_priority_requests,
         (select count(*) from session_requests where ${priority} and fallback_reason = 'priority_timeout')::int as timed_out,
         (select count(*) from session_requests where ${priority} and broadcast_at is not null
            and fallback_reason in ('priority_timeout', 'priority_declined'))::int as total_fallbacks,
         (select count(*) from session_requests where ${priority} and broadcast_at is not null
            and fallback_reason in ('priority_timeout', 'priority_declined') and status = 'accepted')::int
           as accepted_after_fallback,
         (select coalesce(json_agg(json_build_object('mechanic_id', preferred_mechanic_id, 'total', n, 'accepted', a)
                  order by preferred_mechanic_id), '[]')
          from (select preferred_mechanic_id, count(*)::int n, count(*) filter (where ${byPreferred})::int a
                from session_requests where ${priority} group by preferred_mechanic_id) s) as by_mechanic`,
    )
  ).rows[0] as {
    total_priority_requests: number;
    timed_out: number;
    total_fallbacks: number;
    accepted_after_fallback: number;
    by_mechanic: { mechanic_id: string; total: number; accepted: number }[];
  };
  const timeout = (await report('/v1/analytics/priority/timeout-rate')) as Record<string, number>;
  const fallback = (await report('/v1/analytics/priority/fallback-effectiveness')) as Record<string, number>;
  const success = (await report('/v1/analytics/priority/success-rate?min_requests=1')) as {
    mechanic_id: string;
    total_priority_requests: number;
    accepted_by_preferred: number;
  }[];
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
      success
        .map((s) => ({
          mechanic_id: s.mechanic_id,
          total: s.total_priority_requests,
          accepted: s.accepted_by_preferred,
        }))
        .sort((a, b) => a.mechanic_id.localeCompare(b.mechanic_id)),
      truth.by_mechanic.sort((a, b) => a.mechanic_id.localeCompare(b.mechanic_id)),
    ),
  ]);
  return f.violations;
}
