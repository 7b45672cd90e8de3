import type { Offer, OfferOutcome } from '@dibs/contracts';

/**
 * What analytics knows about one tier of a priority request (CONTRACT §6 `offers`): who it was
 * offered to or who was skipped, when, until when, and how it ended. Like the request's facts it
 * only grows: a tier appears once reached, its instants and its outcome are set once (the outcome
 * from null to its final value), so merging keeps the first non-null value of each.
 */
export interface OfferFacts {
  tier: number;
  mechanic_id: string;
  offered_at: string | null;
  expires_at: string | null;
  outcome: OfferOutcome | null;
}

/** The outcomes of a tier that was never offered: routing skipped its mechanic. */
export const SKIPPED_OUTCOMES = ['skipped_unavailable', 'skipped_not_approved'] as const satisfies OfferOutcome[];

export function offerFacts(offer: Offer): OfferFacts {
  return {
    tier: offer.tier,
    mechanic_id: offer.mechanic_id,
    offered_at: offer.offered_at,
    expires_at: offer.expires_at,
    outcome: offer.outcome,
  };
}

/** One tier as two events state it; `MERGE_OFFER_SQL` is the same rule on a stored row. */
export function mergeOffer(a: OfferFacts, b: OfferFacts): OfferFacts {
  return {
    tier: a.tier,
    mechanic_id: a.mechanic_id,
    offered_at: a.offered_at ?? b.offered_at,
    expires_at: a.expires_at ?? b.expires_at,
    outcome: a.outcome ?? b.outcome,
  };
}

/**
 * The union of two views of a request's tiers, merged tier by tier, in tier order. An event that
 * shows fewer tiers (an earlier one, or one of a single request written after its preferred
 * mechanic was deleted) never removes a tier another event showed.
 */
export function mergeOffers(a: readonly OfferFacts[], b: readonly OfferFacts[]): OfferFacts[] {
  const byTier = new Map<number, OfferFacts>();
  for (const offer of a) byTier.set(offer.tier, offer);
  for (const offer of b) {
    const seen = byTier.get(offer.tier);
    byTier.set(offer.tier, seen ? mergeOffer(seen, offer) : offer);
  }
  return [...byTier.values()].sort((x, y) => x.tier - y.tier);
}

/**
 * `mergeOffer(stored, incoming)` as the `DO UPDATE` of the offers upsert (`o`: the stored row,
 * `excluded`: the incoming one). The mechanic and the tier are the key's and never change.
 */
export const MERGE_OFFER_SQL = `
  offered_at = coalesce(o.offered_at, excluded.offered_at),
  expires_at = coalesce(o.expires_at, excluded.expires_at),
  outcome = coalesce(o.outcome, excluded.outcome)`;
