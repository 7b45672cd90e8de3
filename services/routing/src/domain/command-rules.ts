import type { CommandErrorCode } from '@dibs/contracts';
import { type MechanicState, type RequestState, windowDeadline } from './request-state.js';

/** A command refused, with the code HTTP and WebSocket map to a status. */
export interface Refusal {
  ok: false;
  code: CommandErrorCode;
  detail: string;
}

const refuse = (code: CommandErrorCode, detail: string): Refusal => ({ ok: false, code, detail });

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
 * window was opened. The SQL `UPDATE … WHERE` of an accept states the same rule; this function
 * names the reason when that UPDATE matched nothing. `route_first`: nobody was offered the
 * request yet (routing has not seen it), so route it and ask again. `repeat`: the same mechanic
 * accepting again gets the same answer.
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
  const deadline = windowDeadline(r, input.minuteMs);
  if (deadline === null) return { ok: 'route_first' };
  if (r.preferred_mechanic_id === mechanicId || input.now >= deadline) return { ok: true, repeat: false };
  return refuse('priority_window_active', 'the preferred mechanic holds this request until its priority window ends');
}

export interface DeclineInput {
  request: RequestState | null;
  mechanicId: string;
  mechanic: MechanicState | null;
  alreadyDeclined: boolean;
}

/**
 * A decline records that the mechanic is not to be offered the request again. When it comes from
 * the preferred mechanic while the priority window is open, it ends the window at once.
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
  // is enough: the routing decision sees it and broadcasts with `priority_declined`.
  const endsWindow =
    r.preferred_mechanic_id === mechanicId && r.broadcast_at === null && r.priority_notified_at !== null;
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

/** Who was offered a request so far, i.e. who must hear that it is gone. */
export function offeredTo(request: RequestState): 'everyone' | 'preferred' | 'nobody' {
  if (request.broadcast_at !== null) return 'everyone';
  if (request.priority_notified_at !== null && request.preferred_mechanic_id !== null) return 'preferred';
  return 'nobody';
}
