import { randomUUID } from 'node:crypto';
import type { MechanicRequest, SnapshotItem } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { type LiveOffer, OfferBook } from '../src/connection/offers.js';

// The rules that keep a mechanic's offers current, alone (the real gateway drives them in
// connection.test.ts): one offer per request, a broadcast replacing a priority offer, stale
// offers dropped, and the snapshot outranking what the book remembers.

const at = '2026-01-01T10:00:00.000Z';

function request(id = randomUUID()): MechanicRequest {
  return { id } as MechanicRequest;
}

function priority(req: MechanicRequest, tier = 1): LiveOffer {
  return {
    request_id: req.id,
    kind: 'priority',
    request: req,
    expires_at: '2026-01-01T10:10:00.000Z',
    tier,
    priority_window_minutes: 10,
    fallback_reason: null,
    message: 'Dana specifically requested you!',
    at,
  };
}

function broadcast(req: MechanicRequest): LiveOffer {
  return {
    ...priority(req),
    kind: 'broadcast',
    expires_at: null,
    tier: null,
    priority_window_minutes: null,
    message: null,
  };
}

const item = (offer: LiveOffer): SnapshotItem => ({
  kind: offer.kind,
  request: offer.request,
  expires_at: offer.expires_at,
  fallback_reason: offer.fallback_reason,
  tier: offer.tier,
  priority_window_minutes: offer.priority_window_minutes,
});

const kinds = (changes: { type: string }[]) => changes.map((c) => c.type);

describe('OfferBook', () => {
  it('adds an offer once; the same offer again changes nothing', () => {
    const book = new OfferBook();
    const r = request();
    expect(kinds(book.offer(priority(r)))).toEqual(['added']);
    expect(book.offer(priority(r))).toEqual([]);
    expect(book.list()).toHaveLength(1);
  });

  it('replaces a priority offer by the broadcast of the same request, never the reverse', () => {
    const book = new OfferBook();
    const r = request();
    book.offer(priority(r));
    expect(book.offer(broadcast(r))).toEqual([{ type: 'replaced', offer: broadcast(r), previous: priority(r) }]);
    expect(book.offer(priority(r))).toEqual([]);
    expect(book.get(r.id)?.kind).toBe('broadcast');
  });

  it('drops offers of a request taken, cancelled, accepted or declined, even when they come later', () => {
    for (const reason of ['taken', 'cancelled', 'accepted', 'declined'] as const) {
      const book = new OfferBook();
      const r = request();
      book.offer(broadcast(r));
      expect(book.remove(r.id, reason)).toEqual([{ type: 'removed', offer: broadcast(r), reason }]);
      expect(book.remove(r.id, reason)).toEqual([]);
      expect(book.offer(broadcast(r))).toEqual([]);
    }
  });

  it('ends only the priority offer on offer_expired, in whichever order the broadcast comes', () => {
    const expiredFirst = new OfferBook();
    const r = request();
    expiredFirst.offer(priority(r, 3));
    expect(kinds(expiredFirst.remove(r.id, 'expired'))).toEqual(['removed']);
    expect(kinds(expiredFirst.offer(broadcast(r)))).toEqual(['added']);

    const broadcastFirst = new OfferBook();
    broadcastFirst.offer(priority(r, 3));
    expect(kinds(broadcastFirst.offer(broadcast(r)))).toEqual(['replaced']);
    expect(broadcastFirst.remove(r.id, 'expired')).toEqual([]);
    expect(broadcastFirst.get(r.id)?.kind).toBe('broadcast');
  });

  it('merges a snapshot: adds what was missed, withdraws what ended, keeps what is known as it is', () => {
    const book = new OfferBook();
    const [kept, ended, changed, missed] = [request(), request(), request(), request()];
    book.offer(priority(kept));
    book.offer(broadcast(ended));
    book.offer(priority(changed));
    const changes = book.applySnapshot([item(priority(kept)), item(broadcast(changed)), item(broadcast(missed))], at);
    expect(changes.map((c) => [c.type, c.offer.request_id])).toEqual([
      ['removed', ended.id],
      ['replaced', changed.id],
      ['added', missed.id],
    ]);
    expect(changes[0]).toMatchObject({ reason: 'withdrawn' });
    // What the live frame said (its message) stays.
    expect(book.get(kept.id)?.message).toBe('Dana specifically requested you!');
    expect(book.applySnapshot(book.list().map(item), at)).toEqual([]);
  });

  it('lets the snapshot bring back a request it lists, whatever the book remembered', () => {
    const book = new OfferBook();
    const r = request();
    book.offer(broadcast(r));
    book.remove(r.id, 'declined');
    expect(kinds(book.applySnapshot([item(broadcast(r))], at))).toEqual(['added']);
  });
});
