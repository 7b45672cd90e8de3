import type { FallbackReason, RequestEvent, RequestStatus, RoutingType } from '@dibs/contracts';
import { mergeOffers, type OfferFacts, offerFacts } from './offer-facts.js';

/**
 * What analytics knows about one session request: the facts merged from every event seen for
 * it. Each fact only ever grows (a timestamp once set stays; a request once accepted or
 * cancelled stays so), which makes `mergeFacts` commutative, associative and idempotent: any
 * order of arrival, any number of redeliveries, and a full replay all end in the same row.
 */
export interface RequestFacts {
  request_id: string;
  created_at: string;
  routing_type: RoutingType;
  preferred_mechanic_id: string | null;
  preferred_workshop_id: string | null;
  priority_window_minutes: number;
  priority_notified_at: string | null;
  priority_expires_at: string | null;
  broadcast_at: string | null;
  fallback_reason: FallbackReason | null;
  status: RequestStatus;
  mechanic_id: string | null;
  accepted_at: string | null;
  cancelled_at: string | null;
  /** The tiers reached so far, in tier order (stored one row each in `analytics_offer_facts`). */
  offers: OfferFacts[];
  customer_id: string;
  /** The experiment arm the request was enrolled in at creation (CONTRACT §7), both or neither. */
  experiment_key: string | null;
  experiment_arm: string | null;
  /** The price stated by the `accepted` event (null: unknown plan, or not accepted), both or neither. */
  price_cents: number | null;
  currency: string | null;
}

/** The facts one event states: the request row right after the change it describes. */
export function factsFromEvent(event: RequestEvent): RequestFacts {
  const r = event.request;
  return {
    request_id: r.id,
    created_at: r.created_at,
    routing_type: r.routing_type,
    preferred_mechanic_id: r.preferred_mechanic_id,
    preferred_workshop_id: r.preferred_workshop_id,
    priority_window_minutes: r.priority_window_minutes,
    priority_notified_at: r.priority_notified_at,
    priority_expires_at: r.priority_expires_at,
    broadcast_at: r.broadcast_at,
    fallback_reason: r.fallback_reason,
    status: r.status,
    mechanic_id: r.mechanic_id,
    accepted_at: r.accepted_at,
    cancelled_at: r.cancelled_at,
    // In tier order, one per tier, whatever the event's list looks like.
    offers: mergeOffers([], r.offers.map(offerFacts)),
    customer_id: r.customer_id,
    experiment_key: r.experiment?.key ?? null,
    experiment_arm: r.experiment?.arm ?? null,
    price_cents: event.price?.cents ?? null,
    currency: event.price?.currency ?? null,
  };
}

/** Status precedence: a terminal status wins over `pending`, whatever the order of arrival. */
export const STATUS_RANK: Record<RequestStatus, number> = { pending: 0, accepted: 1, cancelled: 1 };

/**
 * Merges what two events say about the same request. Set-once facts keep the first non-null
 * value (routing writes each at most once, so every event that has one agrees); the status keeps
 * the highest rank; the offers are merged tier by tier (`mergeOffers`). `MERGE_FACTS_SQL` below
 * and `MERGE_OFFER_SQL` apply exactly these rules to stored rows; test/request-facts-sql.test.ts
 * checks on PostgreSQL that they agree.
 */
export function mergeFacts(a: RequestFacts, b: RequestFacts): RequestFacts {
  // Pairs set together by one event are taken together, from the first side that has them.
  const experiment = a.experiment_key !== null ? a : b;
  const price = a.price_cents !== null ? a : b;
  return {
    request_id: a.request_id,
    created_at: a.created_at,
    routing_type: a.routing_type,
    // Non-null wins: `ON DELETE SET NULL` may blank it in events written after a mechanic is deleted.
    preferred_mechanic_id: a.preferred_mechanic_id ?? b.preferred_mechanic_id,
    preferred_workshop_id: a.preferred_workshop_id ?? b.preferred_workshop_id,
    priority_window_minutes: a.priority_window_minutes,
    priority_notified_at: a.priority_notified_at ?? b.priority_notified_at,
    priority_expires_at: a.priority_expires_at ?? b.priority_expires_at,
    broadcast_at: a.broadcast_at ?? b.broadcast_at,
    fallback_reason: a.fallback_reason ?? b.fallback_reason,
    status: STATUS_RANK[b.status] > STATUS_RANK[a.status] ? b.status : a.status,
    mechanic_id: a.mechanic_id ?? b.mechanic_id,
    accepted_at: a.accepted_at ?? b.accepted_at,
    cancelled_at: a.cancelled_at ?? b.cancelled_at,
    offers: mergeOffers(a.offers, b.offers),
    customer_id: a.customer_id,
    experiment_key: experiment.experiment_key,
    experiment_arm: experiment.experiment_arm,
    price_cents: price.price_cents,
    currency: price.currency,
  };
}

/**
 * `mergeFacts(stored, incoming)` as the `DO UPDATE` of the facts upsert (`f`: the stored row,
 * `excluded`: the incoming one): set-once facts keep the stored value when there is one; a
 * terminal status is never replaced. The columns it leaves alone (created_at, routing_type,
 * priority_window_minutes) are the ones `mergeFacts` takes from its first argument; so is
 * customer_id, which every event states, but a row stored before migration …130 has none yet.
 */
export const MERGE_FACTS_SQL = `
  preferred_mechanic_id = coalesce(f.preferred_mechanic_id, excluded.preferred_mechanic_id),
  preferred_workshop_id = coalesce(f.preferred_workshop_id, excluded.preferred_workshop_id),
  priority_notified_at = coalesce(f.priority_notified_at, excluded.priority_notified_at),
  priority_expires_at = coalesce(f.priority_expires_at, excluded.priority_expires_at),
  broadcast_at = coalesce(f.broadcast_at, excluded.broadcast_at),
  fallback_reason = coalesce(f.fallback_reason, excluded.fallback_reason),
  status = case when f.status = 'pending' then excluded.status else f.status end,
  mechanic_id = coalesce(f.mechanic_id, excluded.mechanic_id),
  accepted_at = coalesce(f.accepted_at, excluded.accepted_at),
  cancelled_at = coalesce(f.cancelled_at, excluded.cancelled_at),
  customer_id = coalesce(f.customer_id, excluded.customer_id),
  experiment_key = case when f.experiment_key is null then excluded.experiment_key else f.experiment_key end,
  experiment_arm = case when f.experiment_key is null then excluded.experiment_arm else f.experiment_arm end,
  price_cents = case when f.price_cents is null then excluded.price_cents else f.price_cents end,
  currency = case when f.price_cents is null then excluded.currency else f.currency end`;

/** Folds a batch of events into one facts row per request (an upsert touches each row once). */
export function foldEvents(events: readonly RequestEvent[]): RequestFacts[] {
  const byRequest = new Map<string, RequestFacts>();
  for (const event of events) {
    const facts = factsFromEvent(event);
    const seen = byRequest.get(facts.request_id);
    byRequest.set(facts.request_id, seen ? mergeFacts(seen, facts) : facts);
  }
  // Sorted so concurrent replicas lock rows in the same order and never deadlock.
  return [...byRequest.values()].sort((x, y) =>
    x.request_id < y.request_id ? -1 : x.request_id > y.request_id ? 1 : 0,
  );
}
