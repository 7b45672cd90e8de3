import { type Refusal, refuse } from '../refusal.js';
import { type MechanicState, openOffer, type RequestState, windowDeadline } from '../request-state.js';

// Who may accept a request, once: as a pure function (to name the reason for a refusal) and as the
// WHERE of the one UPDATE that decides it (to decide it atomically under the row lock). Both live
// here so that they change together; test/accept-rule.test.ts checks on PostgreSQL that they agree.

export interface AcceptInput {
  request: RequestState | null;
  mechanicId: string;
  mechanic: MechanicState | null;
  /** This mechanic declined the request earlier. */
  declinedByMechanic: boolean;
  now: number;
  minuteMs: number;
}

/**
 * Who may accept: an approved mechanic who has not declined, a pending request, and either the
 * request was broadcast, or its window is over, or the mechanic is the preferred one and the
 * window was opened; in a sequence, before the broadcast, only the mechanic whose tier is open. `ACCEPT_GUARD_SQL` states the same rule; this function names the reason when
 * the UPDATE matched nothing. `route_first`: nobody was offered the request yet (routing has not
 * seen it), so route it and ask again. `repeat`: the same mechanic accepting again gets the same
 * answer.
 */
export function acceptVerdict(input: AcceptInput): { ok: true; repeat: boolean } | Refusal | { ok: 'route_first' } {
  const { request: r, mechanicId, mechanic } = input;
  if (r === null) return refuse('not_found', 'no such session request');
  if (mechanic === null || mechanic.status !== 'approved') {
    return refuse('mechanic_not_approved', 'only approved mechanics can accept requests');
  }
  if (r.status === 'accepted') {
    if (r.mechanic_id === mechanicId) return { ok: true, repeat: true };
    return refuse('already_taken', 'another mechanic has accepted this request');
  }
  if (r.status === 'cancelled') return refuse('not_pending', 'the customer cancelled this request');
  if (input.declinedByMechanic) return refuse('forbidden', 'you declined this request');
  if (r.broadcast_at !== null) return { ok: true, repeat: false };
  if (r.routing_type === 'priority_sequence') {
    // Only the mechanic whose tier is open, for as long as it is: a tier past its deadline is
    // ended by routing (the next tier, or everyone), not by an accept racing it.
    if (openOffer(r)?.mechanic_id === mechanicId) return { ok: true, repeat: false };
    if (r.offers.length === 0) return { ok: 'route_first' };
    return refuse('priority_window_active', 'a ranked favorite holds this request until its tier ends');
  }
  const deadline = windowDeadline(r, input.minuteMs);
  if (deadline === null) return { ok: 'route_first' };
  if (r.preferred_mechanic_id === mechanicId || input.now >= deadline) return { ok: true, repeat: false };
  return refuse('priority_window_active', 'the preferred mechanic holds this request until its priority window ends');
}

/**
 * The accept rule as SQL, over the request row `r`, the accepting mechanic `$2` and now `$3`:
 * true exactly when `acceptVerdict` gives a first win (`{ ok: true, repeat: false }`). The window
 * is judged by the stored `priority_expires_at` alone: routing writes it together with
 * `priority_notified_at` (openPriorityWindows), so `windowDeadline` never falls back to the
 * window length for a row routing opened.
 */
export const ACCEPT_GUARD_SQL = `r.status = 'pending'
  and exists (select 1 from mechanics m where m.id = $2 and m.status = 'approved')
  and not exists (select 1 from session_request_declines d where d.request_id = r.id and d.mechanic_id = $2)
  and (r.broadcast_at is not null
       or (r.routing_type = 'priority_sequence' and exists (select 1 from session_request_offers o
             where o.request_id = r.id and o.mechanic_id = $2 and o.outcome is null))
       or (r.routing_type <> 'priority_sequence'
           and (r.priority_expires_at <= $3 or (r.preferred_mechanic_id = $2 and r.priority_notified_at is not null))))`;
