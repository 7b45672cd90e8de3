import { type Refusal, refuse } from './refusal.js';
import { type MechanicState, openOffer, type RequestState } from './request-state.js';

export interface DeclineInput {
  request: RequestState | null;
  mechanicId: string;
  mechanic: MechanicState | null;
  alreadyDeclined: boolean;
}

/**
 * A decline records that the mechanic is not to be offered the request again. When it comes from
 * the preferred mechanic while the priority window is open (in a sequence: the mechanic whose tier
 * is open), it ends the window at once (`broadcast`: the request moves on, to everyone or, in a
 * sequence, to the next tier).
 */
export function declineVerdict(input: DeclineInput): { ok: true; record: boolean; broadcast: boolean } | Refusal {
  const { request: r, mechanicId, mechanic } = input;
  if (r === null) return refuse('not_found', 'no such session request');
  if (mechanic === null || mechanic.status !== 'approved') {
    return refuse('mechanic_not_approved', 'only approved mechanics can decline requests');
  }
  if (r.status === 'accepted') {
    if (r.mechanic_id === mechanicId) return refuse('not_pending', 'you already accepted this request');
    return refuse('already_taken', 'another mechanic has accepted this request');
  }
  if (r.status === 'cancelled') return refuse('not_pending', 'the customer cancelled this request');
  if (input.alreadyDeclined) return { ok: true, record: false, broadcast: false };
  // Only an open window ends early. Before routing has looked at the request, the recorded decline
  // is enough: the routing decision sees it and broadcasts with `priority_declined` (or, in a
  // sequence, skips that mechanic's tier when it comes).
  const endsWindow =
    r.routing_type === 'priority_sequence'
      ? r.broadcast_at === null && openOffer(r)?.mechanic_id === mechanicId
      : r.preferred_mechanic_id === mechanicId && r.broadcast_at === null && r.priority_notified_at !== null;
  return { ok: true, record: true, broadcast: endsWindow };
}

export interface CancelInput {
  request: RequestState | null;
  customerId: string;
}

/** A customer cancels their own pending request; cancelling twice is fine, after an accept it is too late. */
export function cancelVerdict(input: CancelInput): { ok: true; change: boolean } | Refusal {
  const r = input.request;
  // Someone else's request answers exactly like a missing one: its existence is not theirs to learn.
  if (r === null || r.customer_id !== input.customerId) return refuse('not_found', 'no such session request');
  if (r.status === 'accepted') return refuse('already_accepted', 'a mechanic has already accepted this request');
  if (r.status === 'cancelled') return { ok: true, change: false };
  return { ok: true, change: true };
}

/**
 * Who holds an offer of a request that was just accepted or cancelled, i.e. who must hear that it
 * is gone: everyone once broadcast; else the preferred mechanic whose window was opened, or, in a
 * sequence, the mechanic of the tier that was open (its outcome now `accepted` or `withdrawn`).
 */
export function offeredTo(request: RequestState): 'everyone' | { mechanicId: string } | 'nobody' {
  if (request.broadcast_at !== null) return 'everyone';
  if (request.routing_type === 'priority_sequence') {
    const held = request.offers.find(
      (o) => o.offered_at !== null && (o.outcome === null || o.outcome === 'accepted' || o.outcome === 'withdrawn'),
    );
    return held ? { mechanicId: held.mechanic_id } : 'nobody';
  }
  if (request.priority_notified_at !== null && request.preferred_mechanic_id !== null) {
    return { mechanicId: request.preferred_mechanic_id };
  }
  return 'nobody';
}
