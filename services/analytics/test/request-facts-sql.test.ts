import type { OfferOutcome, RequestEvent, RequestStatus, SeenEvent } from '@dibs/contracts';
import { EVENT_VERSION } from '@dibs/contracts';
import { createOrm, type Orm, sqlOf } from '@dibs/db';
import { createTestDatabase, type TestDatabase } from '@dibs/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldEvents, mergeFacts, type RequestFacts } from '../src/domain/request-facts.js';
import { foldSeen } from '../src/domain/seen-facts.js';
import { createFactsRepository, type FactsRepository } from '../src/repositories/facts.repository.js';

// MERGE_FACTS_SQL, MERGE_OFFER_SQL and MERGE_SEEN_SQL (through the repository's upserts) against
// mergeFacts and mergeSeen, on PostgreSQL.

const T0 = Date.UTC(2027, 0, 4, 12);
const instant = (k: number) => new Date(T0 + k * 60_000).toISOString();
const MECHANICS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
const WORKSHOP = '55555555-5555-4555-8555-555555555555';

let n = 0;
/** A fresh uuid per call, deterministic for a given seed (fast-check replays in order). */
const nextId = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;

// Few distinct values per column, so that stored and incoming facts collide, differ and are null often.
const time = fc.option(fc.integer({ min: 0, max: 3 }).map(instant), { nil: null, freq: 2 });
const mechanic = fc.option(fc.constantFrom(...MECHANICS), { nil: null, freq: 2 });
const outcome = fc.option(
  fc.constantFrom<OfferOutcome>(
    'accepted',
    'declined',
    'timeout',
    'skipped_unavailable',
    'skipped_not_approved',
    'withdrawn',
  ),
  { nil: null, freq: 2 },
);
const offersArb = fc
  .uniqueArray(
    fc.record({
      tier: fc.integer({ min: 1, max: 3 }),
      mechanic_id: fc.constantFrom(...MECHANICS),
      offered_at: time,
      expires_at: time,
      outcome,
    }),
    { selector: (o) => o.tier, maxLength: 3 },
  )
  .map((offers) => offers.sort((a, b) => a.tier - b.tier));
const CUSTOMER = '44444444-4444-4444-8444-444444444444';
// Pairs an event states together (issue 13): an experiment arm, and an accepted event's price.
const experimentArb = fc.option(
  fc.constantFrom({ key: 'window', arm: 'short' }, { key: 'window', arm: 'long' }, { key: 'older', arm: 'a' }),
  { nil: null, freq: 2 },
);
const priceArb = fc.option(
  fc.constantFrom({ cents: 1500, currency: 'EUR' }, { cents: 4200, currency: 'USD' }, { cents: 0, currency: 'EUR' }),
  { nil: null, freq: 2 },
);
const factsArb = fc.record({
  created_at: fc.integer({ min: 0, max: 1 }).map(instant),
  routing_type: fc.constantFrom('broadcast' as const, 'priority_broadcast' as const),
  preferred_mechanic_id: mechanic,
  preferred_workshop_id: fc.option(fc.constant(WORKSHOP), { nil: null, freq: 2 }),
  priority_window_minutes: fc.constantFrom(5, 10),
  priority_notified_at: time,
  priority_expires_at: time,
  broadcast_at: time,
  fallback_reason: fc.option(fc.constantFrom('priority_timeout' as const, 'priority_declined' as const), {
    nil: null,
    freq: 2,
  }),
  status: fc.constantFrom<RequestStatus>('pending', 'pending', 'accepted', 'cancelled'),
  mechanic_id: mechanic,
  accepted_at: time,
  cancelled_at: time,
  offers: offersArb,
  customer_id: fc.constant(CUSTOMER),
  experiment: experimentArb,
  price: priceArb,
});
type Facts = Omit<RequestFacts, 'request_id' | 'experiment_key' | 'experiment_arm' | 'price_cents' | 'currency'> & {
  experiment: { key: string; arm: string } | null;
  price: { cents: number; currency: string } | null;
};

/**
 * A request's life as routing writes it: each event shows the final row with some facts not yet
 * set, the first tiers reached so far, and some of their outcomes not yet known.
 */
const stageArb = fc.record({
  shown: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
  tiers: fc.nat({ max: 3 }),
  ended: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
});
const historyArb = fc
  .record({ final: factsArb, stages: fc.array(stageArb, { minLength: 1, maxLength: 5 }) })
  .map(({ final, stages }) =>
    stages.map(({ shown, tiers, ended }): Facts => {
      const keep = <T>(i: number, v: T): T | null => (shown[i] ? v : null);
      return {
        ...final,
        preferred_mechanic_id: keep(0, final.preferred_mechanic_id),
        priority_notified_at: keep(1, final.priority_notified_at),
        priority_expires_at: keep(2, final.priority_expires_at),
        broadcast_at: keep(3, final.broadcast_at),
        fallback_reason: keep(4, final.fallback_reason),
        mechanic_id: keep(5, final.mechanic_id),
        accepted_at: keep(6, final.accepted_at),
        cancelled_at: keep(7, final.cancelled_at),
        status: shown[8] ? final.status : 'pending',
        // Only the accepted event states the price; every event states the arm.
        price: keep(9, final.price),
        offers: final.offers.slice(0, tiers).map((o, i) => ({ ...o, outcome: ended[i] ? o.outcome : null })),
      };
    }),
  );

/** The order events are applied in: every one at least once, some again, cut into batches. */
const batchesOf = (count: number) =>
  fc
    .array(fc.nat({ max: count - 1 }), { maxLength: 3 })
    .chain((again) => {
      const all = [...Array.from({ length: count }, (_, i) => i), ...again];
      return fc.tuple(
        fc.shuffledSubarray(all, { minLength: all.length }),
        fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
      );
    })
    .map(([order, cuts]) => {
      const batches: number[][] = [[]];
      order.forEach((i, k) => {
        (batches.at(-1) as number[]).push(i);
        if (cuts[k] && k < order.length - 1) batches.push([]);
      });
      return batches;
    });

function eventOf(requestId: string, { price, ...facts }: Facts): RequestEvent {
  return {
    v: EVENT_VERSION,
    id: nextId(),
    kind: 'created',
    occurred_at: facts.created_at,
    actor_mechanic_id: null,
    notify: [],
    price,
    request: {
      ...facts,
      id: requestId,
      customer_name: null,
      customer_email: null,
      session_type: 'video',
      plan_code: 'basic',
      current_tier: null,
    },
  };
}

let db: TestDatabase;
let orm: Orm;
let repo: FactsRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.url, poolMax: 2 });
  repo = createFactsRepository(sqlOf(orm.em));
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

/** Applies `batches` of `events` through the repository and reads the stored row back. */
async function applyAndRead(requestId: string, events: RequestEvent[], batches: number[][]): Promise<RequestFacts> {
  for (const batch of batches) await repo.apply(batch.map((i) => ({ event: events[i] as RequestEvent, seq: null })));
  const { rows } = await db.query(
    `select request_id, created_at, routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes,
       priority_notified_at, priority_expires_at, broadcast_at, fallback_reason, status, mechanic_id, accepted_at,
       cancelled_at, customer_id, experiment_key, experiment_arm, price_cents, currency
     from analytics_request_facts where request_id = $1`,
    [requestId],
  );
  const offers = await db.query(
    `select tier, mechanic_id, offered_at, expires_at, outcome
     from analytics_offer_facts where request_id = $1 order by tier`,
    [requestId],
  );
  for (const r of [rows[0], ...offers.rows] as Record<string, unknown>[])
    for (const k of Object.keys(r)) if (r[k] instanceof Date) r[k] = r[k].toISOString();
  return { ...rows[0], offers: offers.rows } as RequestFacts;
}

describe('the facts merge in SQL', () => {
  it('stores, batch after batch, what folding mergeFacts over the same batches gives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(factsArb, { minLength: 1, maxLength: 5 })
          .chain((facts) => fc.tuple(fc.constant(facts), batchesOf(facts.length))),
        async ([facts, batches]) => {
          const requestId = nextId();
          const events = facts.map((f) => eventOf(requestId, f));
          const perBatch = batches.map((b) => foldEvents(b.map((i) => events[i] as RequestEvent))[0] as RequestFacts);
          const expected = perBatch.reduce(mergeFacts);
          expect(await applyAndRead(requestId, events, batches)).toEqual(expected);
        },
      ),
      { seed: 20270108, numRuns: 200 },
    );
  });

  it('ends in the fold of a request’s events whatever their order, batching and repetition', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb.chain((history) => fc.tuple(fc.constant(history), batchesOf(history.length))),
        async ([history, batches]) => {
          const requestId = nextId();
          const events = history.map((f) => eventOf(requestId, f));
          expect(await applyAndRead(requestId, events, batches)).toEqual(foldEvents(events)[0]);
        },
      ),
      { seed: 20270109, numRuns: 200 },
    );
  });
});

// Acks of two mechanics for one request, often on the same instant, so ties are common.
const ackArb = fc.record({
  mechanic_id: fc.constantFrom(...MECHANICS),
  offer: fc.constantFrom<SeenEvent['offer']>('priority', 'broadcast'),
  tier: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  seen_at: fc.integer({ min: 0, max: 2 }).map(instant),
});

describe('the seen merge in SQL', () => {
  it('keeps, batch after batch, the ack folding mergeSeen over all of them keeps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(ackArb, { minLength: 1, maxLength: 6 })
          .chain((acks) => fc.tuple(fc.constant(acks), batchesOf(acks.length))),
        async ([acks, batches]) => {
          const requestId = nextId();
          const events: SeenEvent[] = acks.map((a) => ({ v: EVENT_VERSION, request_id: requestId, ...a }));
          for (const batch of batches)
            await repo.apply(
              [],
              batch.map((i) => events[i] as SeenEvent),
            );
          const { rows } = await db.query<{ seen_at: Date }>(
            `select request_id, mechanic_id, offer, tier, seen_at from analytics_seen_facts
             where request_id = $1 order by mechanic_id`,
            [requestId],
          );
          expect(rows.map((r) => ({ ...r, seen_at: r.seen_at.toISOString() }))).toEqual(foldSeen(events));
        },
      ),
      { seed: 20270110, numRuns: 200 },
    );
  });
});
