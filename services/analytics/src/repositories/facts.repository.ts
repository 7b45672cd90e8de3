import type { RequestEvent } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import { MERGE_OFFER_SQL } from '../domain/offer-facts.js';
import { foldEvents, MERGE_FACTS_SQL } from '../domain/request-facts.js';

/** An event as read from the stream, with its stream sequence when known. */
export interface StreamEvent {
  event: RequestEvent;
  seq: number | null;
}

export interface FactsRepository {
  /** Records `events` in the ledger and merges their facts, in one statement (all or nothing). */
  apply(events: readonly StreamEvent[]): Promise<void>;
  /** Empties the read model (rebuild). */
  truncate(): Promise<void>;
}

// One statement: the ledger insert and the facts and offers upserts commit together. Arrays
// instead of VALUES lists keep the statement text constant whatever the batch size.
//
// The DO UPDATE clauses are `mergeFacts` and `mergeOffer` in SQL; they live beside them in domain/.
const APPLY_SQL = `
with ledger as (
  insert into analytics_events (event_id, request_id, kind, occurred_at, stream_seq)
  select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::bigint[])
  on conflict (event_id) do nothing
), offers as (
  insert into analytics_offer_facts as o (request_id, tier, mechanic_id, offered_at, expires_at, outcome)
  select * from unnest($20::uuid[], $21::smallint[], $22::uuid[], $23::timestamptz[], $24::timestamptz[], $25::text[])
  on conflict (request_id, tier) do update set ${MERGE_OFFER_SQL}
)
insert into analytics_request_facts as f (
  request_id, created_at, routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes,
  priority_notified_at, priority_expires_at, broadcast_at, fallback_reason, status, mechanic_id, accepted_at, cancelled_at
)
select * from unnest(
  $6::uuid[], $7::timestamptz[], $8::text[], $9::uuid[], $10::uuid[], $11::int[],
  $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[], $17::uuid[],
  $18::timestamptz[], $19::timestamptz[]
)
on conflict (request_id) do update set ${MERGE_FACTS_SQL}`;

export function createFactsRepository(sql: Sql): FactsRepository {
  return {
    async apply(events) {
      if (events.length === 0) return;
      // Sorted by id, like the facts rows, so concurrent replicas take locks in one order.
      const ledger = [...events].sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
      const facts = foldEvents(events.map((e) => e.event));
      const col = <T>(pick: (f: (typeof facts)[number]) => T) => facts.map(pick);
      // One row per (request, tier), in that order (facts are sorted by request, offers by tier).
      const offers = facts.flatMap((f) => f.offers.map((o) => ({ request_id: f.request_id, ...o })));
      const offerCol = <T>(pick: (o: (typeof offers)[number]) => T) => offers.map(pick);
      // Prepared once per connection (name): PostgreSQL parses and plans it once, not per batch.
      await sql.query({
        name: 'analytics-apply-events',
        text: APPLY_SQL,
        values: [
          ledger.map((e) => e.event.id),
          ledger.map((e) => e.event.request.id),
          ledger.map((e) => e.event.kind),
          ledger.map((e) => e.event.occurred_at),
          ledger.map((e) => e.seq),
          col((f) => f.request_id),
          col((f) => f.created_at),
          col((f) => f.routing_type),
          col((f) => f.preferred_mechanic_id),
          col((f) => f.preferred_workshop_id),
          col((f) => f.priority_window_minutes),
          col((f) => f.priority_notified_at),
          col((f) => f.priority_expires_at),
          col((f) => f.broadcast_at),
          col((f) => f.fallback_reason),
          col((f) => f.status),
          col((f) => f.mechanic_id),
          col((f) => f.accepted_at),
          col((f) => f.cancelled_at),
          offerCol((o) => o.request_id),
          offerCol((o) => o.tier),
          offerCol((o) => o.mechanic_id),
          offerCol((o) => o.offered_at),
          offerCol((o) => o.expires_at),
          offerCol((o) => o.outcome),
        ],
      });
    },
    async truncate() {
      await sql.query('truncate analytics_request_facts, analytics_offer_facts, analytics_events');
    },
  };
}
