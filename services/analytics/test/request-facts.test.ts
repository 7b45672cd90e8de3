import type { RequestEvent } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { parseEvent, parseMessage } from '../src/domain/parse-event.js';
import { factsFromEvent, foldEvents, mergeFacts, type RequestFacts } from '../src/domain/request-facts.js';
import { foldSeen, mergeSeen, type SeenFacts, seenFacts } from '../src/domain/seen-facts.js';
import { type GeneratedRequest, lifecycleOnly, OUTCOMES, prng, SEQUENCE_OUTCOMES } from './support/lifecycle.js';
import { sequenceLifecycleOnly } from './support/sequence-lifecycle.js';

// Pure tests of the projection's merge: no database, no NATS.

const encode = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** The facts of a request's final row, with the price its accepted event stated. */
const finalFacts = (r: GeneratedRequest): RequestFacts =>
  factsFromEvent({ ...r.events[0]!, request: r.final, price: r.price });

describe('merging what events say about a request', () => {
  const requests = [
    ...OUTCOMES.flatMap((o, i) => [lifecycleOnly(o, i), lifecycleOnly(o, i + 100)]),
    // Three of each, so that every variant of a sequence's tiers shows up.
    ...SEQUENCE_OUTCOMES.flatMap((o, i) => [0, 100, 200].map((k) => sequenceLifecycleOnly(o, i + k))),
  ];

  it('every order of a request’s events ends in its final row', () => {
    for (const r of requests) {
      for (const order of permutations(r.events)) {
        expect(foldEvents(order)).toEqual([finalFacts(r)]);
      }
    }
  });

  it('is idempotent, commutative and associative', () => {
    const rnd = prng(17);
    for (const r of requests) {
      const facts = r.events.map(factsFromEvent);
      for (let k = 0; k < 20; k++) {
        const [a, b, c] = [0, 1, 2].map(() => facts[Math.floor(rnd() * facts.length)]!) as [
          RequestFacts,
          RequestFacts,
          RequestFacts,
        ];
        expect(mergeFacts(a, a)).toEqual(a);
        expect(mergeFacts(a, b)).toEqual(mergeFacts(b, a));
        expect(mergeFacts(mergeFacts(a, b), c)).toEqual(mergeFacts(a, mergeFacts(b, c)));
      }
    }
  });

  it('never lets a late pending event undo an acceptance or a cancellation', () => {
    for (const r of requests.filter((x) => x.final.status !== 'pending')) {
      const created = factsFromEvent(r.events[0]!);
      expect(mergeFacts(finalFacts(r), created).status).toBe(r.final.status);
    }
  });

  it('never lets a late event drop a tier or reopen one that ended', () => {
    const sequences = requests.filter((r) => r.final.routing_type === 'priority_sequence');
    expect(sequences.some((r) => r.final.offers.length === 3)).toBe(true);
    for (const r of sequences) {
      for (const event of r.events) {
        expect(mergeFacts(finalFacts(r), factsFromEvent(event)).offers).toEqual(finalFacts(r).offers);
      }
    }
  });

  it('keeps the experiment arm of every event and the price of the accepted one', () => {
    const enrolled = requests.filter((r) => r.final.experiment !== null);
    const priced = requests.filter((r) => r.price !== null);
    expect(enrolled.length).toBeGreaterThan(0);
    expect(priced.length).toBeGreaterThan(0);
    for (const r of [...enrolled, ...priced]) {
      const facts = foldEvents([...r.events].reverse())[0]!;
      expect([facts.experiment_key, facts.experiment_arm]).toEqual([
        r.final.experiment?.key ?? null,
        r.final.experiment?.arm ?? null,
      ]);
      expect([facts.price_cents, facts.currency]).toEqual([r.price?.cents ?? null, r.price?.currency ?? null]);
      expect(facts.customer_id).toBe(r.final.customer_id);
    }
  });

  it('folds a batch into one row per request, sorted by request id', () => {
    const rows = foldEvents(requests.flatMap((r) => r.events).reverse());
    expect(rows.map((r) => r.request_id)).toEqual(requests.map((r) => r.final.id).sort());
  });
});

describe('reading an event off the stream', () => {
  const event: RequestEvent = lifecycleOnly('accepted_by_preferred', 1).events[2]!;

  it('accepts a v1 lifecycle event', () => {
    expect(parseEvent(encode(event))).toEqual({ ok: true, event });
  });

  it('rejects what is not JSON, another version, or not a lifecycle event, saying why', () => {
    expect(parseEvent(encode('{nope'))).toEqual({ ok: false, reason: 'not JSON' });
    expect(parseEvent(encode({ ...event, v: 2 }))).toEqual({ ok: false, reason: 'unknown event version 2' });
    expect(parseEvent(encode(null))).toEqual({ ok: false, reason: 'unknown event version undefined' });
    const bad = parseEvent(encode({ ...event, kind: 'exploded' }));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^invalid event: kind/);
  });
});

describe('merging seen acks', () => {
  const lives = [
    ...OUTCOMES.flatMap((o, i) => [lifecycleOnly(o, i), lifecycleOnly(o, i + 100)]),
    ...SEQUENCE_OUTCOMES.flatMap((o, i) => [0, 100].map((k) => sequenceLifecycleOnly(o, i + k))),
  ];
  const acks = lives.flatMap((r) => [...r.seen, ...r.seenRepeats]);

  it('keeps the earliest ack of each (request, mechanic) whatever the order, sorted by that key', () => {
    expect(lives.flatMap((r) => r.seenRepeats).length).toBeGreaterThan(0);
    const expected = lives
      .flatMap((r) => r.seen.map(seenFacts))
      .sort((a, b) => (a.request_id + a.mechanic_id < b.request_id + b.mechanic_id ? -1 : 1));
    const rnd = prng(5);
    for (let k = 0; k < 10; k++) {
      const order = [...acks].sort(() => rnd() - 0.5);
      expect(foldSeen(order)).toEqual(expected);
    }
  });

  it('is idempotent, commutative and associative, ties broken by (offer, tier)', () => {
    const at = '2026-01-01T00:00:01.000Z';
    const base = { request_id: 'r', mechanic_id: 'm', seen_at: at };
    const variants: SeenFacts[] = [
      { ...base, offer: 'priority', tier: 2 },
      { ...base, offer: 'priority', tier: 1 },
      { ...base, offer: 'broadcast', tier: null },
      { ...base, offer: 'priority', tier: 1, seen_at: '2026-01-01T00:00:00.999Z' },
    ];
    for (const a of variants)
      for (const b of variants) {
        expect(mergeSeen(a, a)).toEqual(a);
        expect(mergeSeen(a, b)).toEqual(mergeSeen(b, a));
        for (const c of variants) expect(mergeSeen(mergeSeen(a, b), c)).toEqual(mergeSeen(a, mergeSeen(b, c)));
      }
    expect(variants.reduce(mergeSeen).seen_at).toBe('2026-01-01T00:00:00.999Z');
    expect(variants.slice(0, 3).reduce(mergeSeen).offer).toBe('broadcast');
  });
});

describe('telling seen acks from lifecycle events by subject', () => {
  const seenSubject = 'p.events.offer.seen';
  const ack = lifecycleOnly('accepted_by_preferred', 3).seen[0]!;
  const event = lifecycleOnly('accepted_by_preferred', 3).events[0]!;

  it('reads a seen ack on the seen subject and a lifecycle event on any other', () => {
    expect(parseMessage(seenSubject, encode(ack), seenSubject)).toEqual({ ok: true, seen: ack });
    expect(parseMessage('p.events.request.created', encode(event), seenSubject)).toEqual({ ok: true, event });
  });

  it('rejects an ack that is not one, and a lifecycle event on the seen subject', () => {
    const noTime = parseMessage(seenSubject, encode({ ...ack, seen_at: 'soon' }), seenSubject);
    expect(!noTime.ok && noTime.reason).toMatch(/^invalid seen ack: seen_at/);
    expect(parseMessage(seenSubject, encode(event), seenSubject).ok).toBe(false);
    expect(parseMessage('p.events.request.created', encode(ack), seenSubject).ok).toBe(false);
    expect(parseMessage(seenSubject, encode({ ...ack, v: 3 }), seenSubject)).toEqual({
      ok: false,
      reason: 'unknown event version 3',
    });
  });
});
