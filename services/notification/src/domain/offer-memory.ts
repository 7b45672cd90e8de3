import type { OfferKind } from './delivery.js';

/** What a `seen` of one request amounts to on one connection (CONTRACT §7 "seen acks"). */
export type SeenOutcome =
  | { outcome: 'first'; offer: OfferKind; tier: number | null }
  | { outcome: 'repeat' }
  | { outcome: 'not_offered' };

// One entry per request, packed into a small integer: `tier × 4 + flags` (tier 0: a broadcast).
// A broadcast to thousands of sockets thus costs each one a map entry and no object of its own.
const ENDED = 2;
const SEEN = 1;
const TIER = 4;

/**
 * The offers one connection was made (live or in its snapshot), for three questions: is this
 * offer a repeat (one per request and kind while it is open), may a withdrawal to "every offered
 * mechanic" go to it (only while open), and what does a `seen` of the request amount to.
 *
 * An ended priority offer (taken, cancelled, its tier expired, or won here) is kept, marked ended:
 * the app may show it just as its window closes, and that late `seen` is what the analytics of
 * unseen offers needs. An ended broadcast is forgotten: it went to every mechanic, and keeping it
 * would cost every socket memory for every finished request. The oldest entry goes first beyond
 * `capacity`.
 */
export class OfferMemory {
  private readonly entries = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Records an offer of `requestId`; false when this kind of offer of it is already open here (a repeat). */
  offer(requestId: string, kind: OfferKind, tier: number | null): boolean {
    const entry = this.entries.get(requestId);
    if (entry !== undefined && (entry & ENDED) === 0 && kindOf(entry) === kind) return false;
    // The first seen per (request, mechanic) counts: a broadcast after a seen priority offer is not new.
    const seen = entry === undefined ? 0 : entry & SEEN;
    this.entries.set(requestId, (kind === 'priority' ? Math.max(1, tier ?? 1) : 0) * TIER + seen);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return true;
  }

  /** Ends the offer of `requestId`; true when one was open here. */
  end(requestId: string): boolean {
    const entry = this.entries.get(requestId);
    if (entry === undefined || (entry & ENDED) !== 0) return false;
    if (kindOf(entry) === 'broadcast') this.entries.delete(requestId);
    else this.entries.set(requestId, entry | ENDED);
    return true;
  }

  /** Records a `seen` of `requestId`: the first one of an offer made here is to be forwarded. */
  seen(requestId: string): SeenOutcome {
    const entry = this.entries.get(requestId);
    if (entry === undefined) return { outcome: 'not_offered' };
    if ((entry & SEEN) !== 0) return { outcome: 'repeat' };
    this.entries.set(requestId, entry | SEEN);
    const tier = Math.floor(entry / TIER);
    return tier === 0
      ? { outcome: 'first', offer: 'broadcast', tier: null }
      : { outcome: 'first', offer: 'priority', tier };
  }

  /** Forgets a `seen` that could not be forwarded, so the app's next one of the request counts. */
  unsee(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (entry !== undefined) this.entries.set(requestId, entry & ~SEEN);
  }
}

function kindOf(entry: number): OfferKind {
  return entry < TIER ? 'broadcast' : 'priority';
}
