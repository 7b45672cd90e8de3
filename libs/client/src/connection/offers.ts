import type { FallbackReason, MechanicRequest, SnapshotItem } from '@dibs/contracts';

/** A request a mechanic may accept now: its own priority offer, or a broadcast to everyone. */
export interface LiveOffer {
  request_id: string;
  kind: 'priority' | 'broadcast';
  /** The request as mechanics see it (no customer email). */
  request: MechanicRequest;
  /** A priority offer's end of window (its tier's, in a sequence); null for a broadcast. */
  expires_at: string | null;
  /** A priority offer's tier (1 for a single preferred mechanic); null for a broadcast. */
  tier: number | null;
  priority_window_minutes: number | null;
  /** Why a broadcast went to everyone. */
  fallback_reason: FallbackReason | null;
  /** The priority frame's message ("Dana specifically requested you! …"); null from a snapshot or for a broadcast. */
  message: string | null;
  /** When the server sent what this offer is from (the frame's `at`). */
  at: string;
}

/**
 * Why an offer left the app's list: `taken` (another mechanic won it), `cancelled`, `expired`
 * (this mechanic's tier of a sequence ended unanswered), `accepted` / `declined` (by this app),
 * or `withdrawn` (the snapshot after a reconnect no longer holds it: it ended while away).
 */
export type OfferRemovalReason = 'taken' | 'cancelled' | 'expired' | 'accepted' | 'declined' | 'withdrawn';

export type OfferChange =
  | { type: 'added'; offer: LiveOffer }
  | { type: 'replaced'; offer: LiveOffer; previous: LiveOffer }
  | { type: 'removed'; offer: LiveOffer; reason: OfferRemovalReason };

/** A Set that forgets its oldest members past `capacity`, so a long-lived connection stays bounded. */
export class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly capacity: number) {}

  has(value: string): boolean {
    return this.items.has(value);
  }

  /** Adds `value`; false when it was there already. */
  add(value: string): boolean {
    if (this.items.has(value)) return false;
    this.items.add(value);
    if (this.items.size > this.capacity) this.items.delete(this.items.values().next().value as string);
    return true;
  }

  delete(value: string): void {
    this.items.delete(value);
  }
}

/** Requests that can never be offered again: taken, cancelled, accepted or declined here. */
const FINAL: ReadonlySet<OfferRemovalReason> = new Set(['taken', 'cancelled', 'accepted', 'declined']);

/** Two views of one offer that an app would show alike: a repeat, not a change. */
function sameOffer(a: LiveOffer, b: LiveOffer): boolean {
  return a.kind === b.kind && a.tier === b.tier && a.expires_at === b.expires_at;
}

/**
 * A mechanic's open offers, one per request, and the rules that keep them current. Every method
 * returns what changed, for the connection to tell the app; a repeat changes nothing.
 */
export class OfferBook {
  private readonly open = new Map<string, LiveOffer>();
  private readonly ended = new BoundedSet(4096);

  get(requestId: string): LiveOffer | undefined {
    return this.open.get(requestId);
  }

  list(): LiveOffer[] {
    return [...this.open.values()];
  }

  /**
   * A live offer (`priority_session_request` or `new_request`). A broadcast replaces a priority
   * offer of the same request (its window ended); a priority offer arriving after the broadcast,
   * or any offer of a request already taken, cancelled, accepted or declined, is stale.
   */
  offer(incoming: LiveOffer): OfferChange[] {
    if (this.ended.has(incoming.request_id)) return [];
    const current = this.open.get(incoming.request_id);
    if (!current) {
      this.open.set(incoming.request_id, incoming);
      return [{ type: 'added', offer: incoming }];
    }
    if (sameOffer(current, incoming)) return [];
    if (current.kind === 'broadcast' && incoming.kind === 'priority') return [];
    this.open.set(incoming.request_id, incoming);
    return [{ type: 'replaced', offer: incoming, previous: current }];
  }

  /**
   * Ends the offer of `requestId`. `expired` ends only a priority offer: the broadcast of the same
   * event (a sequence's last tier) may have arrived first and must stay.
   */
  remove(requestId: string, reason: OfferRemovalReason): OfferChange[] {
    if (FINAL.has(reason)) this.ended.add(requestId);
    const current = this.open.get(requestId);
    if (!current || (reason === 'expired' && current.kind !== 'priority')) return [];
    this.open.delete(requestId);
    return [{ type: 'removed', offer: current, reason }];
  }

  /**
   * The gateway's `snapshot` (sent on every connect) is what is open now: offers it lacks ended
   * while the socket was away (`withdrawn`), offers it adds were missed, and offers already known
   * stay as they are (no repeat reaches the app).
   */
  applySnapshot(items: SnapshotItem[], at: string): OfferChange[] {
    const changes: OfferChange[] = [];
    const listed = new Set(items.map((i) => i.request.id));
    for (const [id, offer] of this.open) {
      if (!listed.has(id)) {
        this.open.delete(id);
        changes.push({ type: 'removed', offer, reason: 'withdrawn' });
      }
    }
    for (const item of items) {
      const incoming = fromSnapshot(item, at);
      const current = this.open.get(incoming.request_id);
      // The snapshot is read from the database at connect: it outranks what this book remembers.
      this.ended.delete(incoming.request_id);
      if (!current) {
        this.open.set(incoming.request_id, incoming);
        changes.push({ type: 'added', offer: incoming });
      } else if (!sameOffer(current, incoming)) {
        this.open.set(incoming.request_id, incoming);
        changes.push({ type: 'replaced', offer: incoming, previous: current });
      }
    }
    return changes;
  }
}

function fromSnapshot(item: SnapshotItem, at: string): LiveOffer {
  return {
    request_id: item.request.id,
    kind: item.kind,
    request: item.request,
    expires_at: item.expires_at,
    tier: item.tier,
    priority_window_minutes: item.priority_window_minutes,
    fallback_reason: item.fallback_reason,
    message: null,
    at,
  };
}
