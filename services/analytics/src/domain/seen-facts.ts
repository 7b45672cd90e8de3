import type { SeenEvent } from '@dibs/contracts';

/**
 * The first time a mechanic's app showed an offer of a request (CONTRACT §7 "seen acks"). The
 * gateway publishes one ack per (request, mechanic), but a repeat (another gateway after the
 * stream's duplicate window, a replay) may still arrive, in any order: the earliest one is kept.
 */
export interface SeenFacts {
  request_id: string;
  mechanic_id: string;
  offer: SeenEvent['offer'];
  tier: number | null;
  seen_at: string;
}

export function seenFacts(event: SeenEvent): SeenFacts {
  return {
    request_id: event.request_id,
    mechanic_id: event.mechanic_id,
    offer: event.offer,
    tier: event.tier,
    seen_at: event.seen_at,
  };
}

/**
 * The earlier of two acks of one (request, mechanic); on the same instant the smaller
 * (offer, tier), so the choice never depends on the order of arrival. `MERGE_SEEN_SQL` is the
 * same rule on a stored row.
 */
export function mergeSeen(a: SeenFacts, b: SeenFacts): SeenFacts {
  return compareSeen(b, a) < 0 ? b : a;
}

function compareSeen(a: SeenFacts, b: SeenFacts): number {
  const at = Date.parse(a.seen_at) - Date.parse(b.seen_at);
  if (at !== 0) return at;
  if (a.offer !== b.offer) return a.offer < b.offer ? -1 : 1;
  return (a.tier ?? 0) - (b.tier ?? 0);
}

/** Folds a batch into one ack per (request, mechanic), sorted by that key (lock order, as the facts). */
export function foldSeen(events: readonly SeenEvent[]): SeenFacts[] {
  const byKey = new Map<string, SeenFacts>();
  for (const event of events) {
    const facts = seenFacts(event);
    const key = `${facts.request_id}:${facts.mechanic_id}`;
    const kept = byKey.get(key);
    byKey.set(key, kept ? mergeSeen(kept, facts) : facts);
  }
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, facts]) => facts);
}

/**
 * `mergeSeen(stored, incoming)` as the `DO UPDATE … WHERE` of the seen upsert (`s`: the stored
 * row, `excluded`: the incoming one): the incoming ack replaces the stored one only when it sorts
 * before it by (seen_at, offer, tier).
 */
export const MERGE_SEEN_SQL = `
  offer = excluded.offer, tier = excluded.tier, seen_at = excluded.seen_at
  where (excluded.seen_at, excluded.offer, coalesce(excluded.tier, 0)) < (s.seen_at, s.offer, coalesce(s.tier, 0))`;
