import type { RequestEvent, SeenEvent } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import { MERGE_OFFER_SQL } from '../domain/offer-facts.js';
import { foldEvents, MERGE_FACTS_SQL, type RequestFacts } from '../domain/request-facts.js';
import { foldSeen, MERGE_SEEN_SQL, type SeenFacts } from '../domain/seen-facts.js';

/** An event as read from the stream, with its stream sequence when known. */
export interface StreamEvent {
  event: RequestEvent;
  seq: number | null;
}

export interface FactsRepository {
  /**
   * Records `events` in the ledger and merges their facts and the `seen` acks, in one statement
   * (all or nothing).
   */
  apply(events: readonly StreamEvent[], seen?: readonly SeenEvent[]): Promise<void>;
  /** Empties the read model (rebuild). */
  truncate(): Promise<void>;
}

/** One column of an `unnest` insert: its name, its array type, and how a row gives its value. */
type Column<R> = readonly [name: string, type: string, value: (row: R) => unknown];

type Offer = RequestFacts['offers'][number] & { request_id: string };

const LEDGER: Column<StreamEvent>[] = [
  ['event_id', 'uuid', (e) => e.event.id],
  ['request_id', 'uuid', (e) => e.event.request.id],
  ['kind', 'text', (e) => e.event.kind],
  ['occurred_at', 'timestamptz', (e) => e.event.occurred_at],
  ['stream_seq', 'bigint', (e) => e.seq],
];
const OFFERS: Column<Offer>[] = [
  ['request_id', 'uuid', (o) => o.request_id],
  ['tier', 'smallint', (o) => o.tier],
  ['mechanic_id', 'uuid', (o) => o.mechanic_id],
  ['offered_at', 'timestamptz', (o) => o.offered_at],
  ['expires_at', 'timestamptz', (o) => o.expires_at],
  ['outcome', 'text', (o) => o.outcome],
];
const SEEN: Column<SeenFacts>[] = [
  ['request_id', 'uuid', (s) => s.request_id],
  ['mechanic_id', 'uuid', (s) => s.mechanic_id],
  ['offer', 'text', (s) => s.offer],
  ['tier', 'smallint', (s) => s.tier],
  ['seen_at', 'timestamptz', (s) => s.seen_at],
];
const FACTS: Column<RequestFacts>[] = [
  ['request_id', 'uuid', (f) => f.request_id],
  ['created_at', 'timestamptz', (f) => f.created_at],
  ['routing_type', 'text', (f) => f.routing_type],
  ['preferred_mechanic_id', 'uuid', (f) => f.preferred_mechanic_id],
  ['preferred_workshop_id', 'uuid', (f) => f.preferred_workshop_id],
  ['priority_window_minutes', 'int', (f) => f.priority_window_minutes],
  ['priority_notified_at', 'timestamptz', (f) => f.priority_notified_at],
  ['priority_expires_at', 'timestamptz', (f) => f.priority_expires_at],
  ['broadcast_at', 'timestamptz', (f) => f.broadcast_at],
  ['fallback_reason', 'text', (f) => f.fallback_reason],
  ['status', 'text', (f) => f.status],
  ['mechanic_id', 'uuid', (f) => f.mechanic_id],
  ['accepted_at', 'timestamptz', (f) => f.accepted_at],
  ['cancelled_at', 'timestamptz', (f) => f.cancelled_at],
  ['customer_id', 'uuid', (f) => f.customer_id],
  ['experiment_key', 'text', (f) => f.experiment_key],
  ['experiment_arm', 'text', (f) => f.experiment_arm],
  ['price_cents', 'int', (f) => f.price_cents],
  ['currency', 'text', (f) => f.currency],
];

// The parameters, table by table, in this order.
const GROUPS = [LEDGER, OFFERS, SEEN, FACTS] as const;
const firstParam = GROUPS.map((_, i) => 1 + GROUPS.slice(0, i).reduce((n, g) => n + g.length, 0));

/** `(cols) select * from unnest($n::type[], …)` for one group of parameters. */
function unnest(columns: readonly Column<never>[], group: number): string {
  const start = firstParam[group] as number;
  const names = columns.map(([name]) => name).join(', ');
  const arrays = columns.map(([, type], i) => `$${start + i}::${type}[]`).join(', ');
  return `(${names}) select * from unnest(${arrays})`;
}

// One statement: the ledger insert and the offers, seen and facts upserts commit together (a
// data-modifying CTE runs whether or not it is referenced). Arrays instead of VALUES lists keep
// the statement text constant whatever the batch size. The DO UPDATE clauses are `mergeFacts`,
// `mergeOffer` and `mergeSeen` in SQL; they live beside them in domain/.
const APPLY_SQL = `
with ledger as (
  insert into analytics_events ${unnest(LEDGER, 0)}
  on conflict (event_id) do nothing
), offers as (
  insert into analytics_offer_facts as o ${unnest(OFFERS, 1)}
  on conflict (request_id, tier) do update set ${MERGE_OFFER_SQL}
), seen as (
  insert into analytics_seen_facts as s ${unnest(SEEN, 2)}
  on conflict (request_id, mechanic_id) do update set ${MERGE_SEEN_SQL}
)
insert into analytics_request_facts as f ${unnest(FACTS, 3)}
on conflict (request_id) do update set ${MERGE_FACTS_SQL}`;

const byId = (a: StreamEvent, b: StreamEvent) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0);
const values = <R>(columns: readonly Column<R>[], rows: readonly R[]) => columns.map(([, , value]) => rows.map(value));

export function createFactsRepository(sql: Sql): FactsRepository {
  return {
    async apply(events, seen = []) {
      if (events.length === 0 && seen.length === 0) return;
      // Every table's rows sorted by their key (the ledger by id, facts by request, offers by
      // request and tier, acks by request and mechanic), so concurrent replicas lock in one order.
      const facts = foldEvents(events.map((e) => e.event));
      const offers = facts.flatMap((f) => f.offers.map((o) => ({ request_id: f.request_id, ...o })));
      // Prepared once per connection (name): PostgreSQL parses and plans it once, not per batch.
      await sql.query({
        name: 'analytics-apply-events',
        text: APPLY_SQL,
        values: [
          ...values(LEDGER, [...events].sort(byId)),
          ...values(OFFERS, offers),
          ...values(SEEN, foldSeen(seen)),
          ...values(FACTS, facts),
        ],
      });
    },
    async truncate() {
      await sql.query(
        'truncate analytics_request_facts, analytics_offer_facts, analytics_seen_facts, analytics_events',
      );
    },
  };
}
