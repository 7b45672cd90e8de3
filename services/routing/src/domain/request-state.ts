import type { MechanicStatus, OfferOutcome, RequestStatus, RoutingType } from '@dibs/contracts';

/** One tier of a sequence's plan, fixed when the request was booked (`session_requests.priority_tiers`). */
export interface TierPlan {
  mechanic_id: string;
  window_minutes: number;
}

/** One tier reached, as `session_request_offers` stores it; instants are epoch milliseconds. */
export interface OfferState {
  tier: number;
  mechanic_id: string;
  /** Null for a tier skipped without an offer. */
  offered_at: number | null;
  expires_at: number | null;
  /** Null while the tier is open. */
  outcome: OfferOutcome | null;
}

/** What routing's decisions read of a session request; instants are epoch milliseconds. */
export interface RequestState {
  id: string;
  customer_id: string;
  status: RequestStatus;
  routing_type: RoutingType;
  preferred_mechanic_id: string | null;
  preferred_workshop_id: string | null;
  priority_window_minutes: number;
  priority_notified_at: number | null;
  priority_expires_at: number | null;
  broadcast_at: number | null;
  mechanic_id: string | null;
  /** A sequence's plan (rank order); null for every other request. */
  priority_tiers: TierPlan[] | null;
  /** A sequence's tiers reached so far, in tier order; always empty for other requests. */
  offers: OfferState[];
}

/** A sequence's open tier (offered, not ended), if any. */
export function openOffer(request: RequestState): OfferState | null {
  return request.offers.find((o) => o.outcome === null && o.offered_at !== null) ?? null;
}

/** A mechanic as the decisions see it. */
export interface MechanicState {
  id: string;
  status: MechanicStatus;
}

/**
 * The end of a request's priority window, or null when no window was opened. The stored
 * `priority_expires_at` wins: it was computed with the PRIORITY_MINUTE_MS in force when the window
 * opened, which a later restart with another value must not stretch or shorten.
 */
export function windowDeadline(request: RequestState, minuteMs: number): number | null {
  if (request.priority_notified_at === null) return null;
  return request.priority_expires_at ?? request.priority_notified_at + request.priority_window_minutes * minuteMs;
}
