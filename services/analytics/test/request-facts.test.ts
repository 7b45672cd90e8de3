import type { RequestEvent } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../src/domain/parse-event.js';
import { factsFromEvent, foldEvents, mergeFacts, type RequestFacts } from '../src/domain/request-facts.js';
import { type GeneratedRequest, lifecycleOnly, OUTCOMES, prng, SEQUENCE_OUTCOMES } from './support/lifecycle.js';
import { sequenceLifecycleOnly } from './support/sequence-lifecycle.js';

// Pure tests of the projection's merge: no database, no NATS.

const encode = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

const finalFacts = (r: GeneratedRequest): RequestFacts => factsFromEvent({ ...r.events[0]!, request: r.final });

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
