import type { FallbackReason } from '@dibs/contracts';
import { type MechanicState, type RequestState, windowDeadline } from './request-state.js';
import type { BroadcastTrigger } from './rules/broadcast.js';
import { decideSequence, type SequenceStep } from './rules/sequence.js';

/**
 * What to do with a session request now:
 * - `offer_priority`: open the preferred mechanic's window until `expiresAt`;
 * - `broadcast`: offer it to every mechanic now, recording `reason` (`trigger` says which guard
 *   the write must check, so that two racing deciders broadcast once);
 * - `wait`: a window is open; look again in `ms`;
 * - `sequence`: a sequence's next step (rules/sequence.ts): end the open tier, skip, open the
 *   next tier or broadcast;
 * - `done`: accepted, cancelled or already broadcast; nothing left for routing to do.
 */
export type RoutingDecision =
  | { kind: 'offer_priority'; mechanicId: string; expiresAt: number }
  | { kind: 'broadcast'; reason: FallbackReason | null; trigger: BroadcastTrigger }
  | { kind: 'sequence'; step: SequenceStep }
  | { kind: 'wait'; ms: number; deadline: number }
  | { kind: 'done'; why: 'accepted' | 'cancelled' | 'broadcast' };

export interface RoutingInput {
  request: RequestState;
  /** ENABLE_FAVORITES_PRIORITY evaluated for this request's customer. */
  priorityEnabled: boolean;
  /** The preferred mechanic's row, or null when there is none (or it no longer exists). */
  mechanic: MechanicState | null;
  /** A sequence's planned mechanics as they are now, by id (empty for other requests). */
  mechanics: ReadonlyMap<string, MechanicState>;
  /**
   * Whether each mechanic the request may be offered to (the preferred one, a sequence's plan) is
   * available now (rules/availability.ts); one missing counts as unavailable.
   */
  available: ReadonlyMap<string, boolean>;
  /** Mechanics who declined this request. */
  declined: readonly string[];
  now: number;
  /** How long one minute of a priority window lasts (PRIORITY_MINUTE_MS). */
  minuteMs: number;
}

/**
 * The routing rule of the seed, as a pure function. Priority applies when the flag is on for the
 * customer, the customer asked for `priority_broadcast`, named a preferred mechanic who exists, is
 * approved and available (else: broadcast at once, `priority_unavailable`), and did not book
 * through a workshop. A window, once open, is judged only by its stored deadline, never by when
 * we happen to look. A `priority_sequence` moves through its tiers by rules/sequence.ts.
 */
export function decideRouting(input: RoutingInput): RoutingDecision {
  const { request: r, now, minuteMs } = input;
  if (r.routing_type === 'priority_sequence' && r.preferred_workshop_id === null) {
    const d = decideSequence(input);
    return d.kind === 'step' ? { kind: 'sequence', step: d.step } : d;
  }
  if (r.status === 'accepted') return { kind: 'done', why: 'accepted' };
  if (r.status === 'cancelled') return { kind: 'done', why: 'cancelled' };
  if (r.broadcast_at !== null) return { kind: 'done', why: 'broadcast' };

  const preferredDeclined = r.preferred_mechanic_id !== null && input.declined.includes(r.preferred_mechanic_id);
  const deadline = windowDeadline(r, minuteMs);
  if (deadline !== null) {
    if (preferredDeclined) return { kind: 'broadcast', reason: 'priority_declined', trigger: 'declined' };
    if (now >= deadline) return { kind: 'broadcast', reason: 'priority_timeout', trigger: 'timeout' };
    return { kind: 'wait', ms: deadline - now, deadline };
  }

  // Workshop bookings and plain broadcasts never use the favorites flow: nothing "fell back".
  if (r.preferred_workshop_id !== null || r.routing_type === 'broadcast') {
    return { kind: 'broadcast', reason: null, trigger: 'route' };
  }
  if (!input.priorityEnabled) return { kind: 'broadcast', reason: 'flag_disabled', trigger: 'route' };
  const m = input.mechanic;
  if (r.preferred_mechanic_id === null || m === null || m.id !== r.preferred_mechanic_id || m.status !== 'approved') {
    return { kind: 'broadcast', reason: 'priority_failed', trigger: 'route' };
  }
  if (preferredDeclined) return { kind: 'broadcast', reason: 'priority_declined', trigger: 'declined' };
  if (input.available.get(m.id) !== true)
    return { kind: 'broadcast', reason: 'priority_unavailable', trigger: 'route' };
  return { kind: 'offer_priority', mechanicId: m.id, expiresAt: now + r.priority_window_minutes * minuteMs };
}
