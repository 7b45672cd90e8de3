import type { FallbackReason } from '@dibs/contracts';
import { type MechanicState, openOffer, type RequestState } from '../request-state.js';

// How a sequence (`priority_sequence`, CONTRACT §6) moves through its tiers, as a pure function of
// the stored request (its plan and the offers reached so far), who declined it, the mechanics of
// its plan and whether each is available, and now. Every tier's end is decided from its stored
// deadline, never from when we happen to look. The step is written under the request's row lock
// after a fresh read (repositories/sequence.repository.ts), so whichever decider comes second
// (the sweeper of another replica, a decline, a redelivery) finds the step already taken and
// decides the next one, or nothing.

/** One tier passed over without an offer: its mechanic was not approved, not available, or had declined. */
export interface SkippedTier {
  tier: number;
  mechanicId: string;
  windowMinutes: number;
  outcome: 'skipped_unavailable' | 'skipped_not_approved' | 'declined';
}

/** What a sequence does now: end the open tier, skip tiers, then open the next one or broadcast. */
export interface SequenceStep {
  close: { tier: number; mechanicId: string; outcome: 'timeout' | 'declined' } | null;
  skip: SkippedTier[];
  open: { tier: number; mechanicId: string; windowMinutes: number; expiresAt: number } | null;
  /** Set exactly when `open` is null: every tier is over, the request goes to everyone. */
  broadcast: FallbackReason | null;
}

export type SequenceDecision =
  | { kind: 'step'; step: SequenceStep }
  | { kind: 'wait'; ms: number; deadline: number }
  | { kind: 'done'; why: 'accepted' | 'cancelled' | 'broadcast' };

export interface SequenceInput {
  request: RequestState;
  /** ENABLE_FAVORITES_PRIORITY for this request's customer; read only before the first tier. */
  priorityEnabled: boolean;
  /** The plan's mechanics as they are now, by id (absent: no such mechanic any more). */
  mechanics: ReadonlyMap<string, MechanicState>;
  /** Whether each of the plan's mechanics is available now (rules/availability.ts), by id. */
  available: ReadonlyMap<string, boolean>;
  /** Mechanics who declined this request. */
  declined: readonly string[];
  now: number;
  /** How long one minute of a window lasts (PRIORITY_MINUTE_MS). */
  minuteMs: number;
}

export function decideSequence(input: SequenceInput): SequenceDecision {
  const { request: r, now } = input;
  if (r.status === 'accepted') return { kind: 'done', why: 'accepted' };
  if (r.status === 'cancelled') return { kind: 'done', why: 'cancelled' };
  if (r.broadcast_at !== null) return { kind: 'done', why: 'broadcast' };

  const plan = r.priority_tiers ?? [];
  const reached = r.offers.length === 0 ? 0 : Math.max(...r.offers.map((o) => o.tier));
  const open = openOffer(r);
  let close: SequenceStep['close'] = null;
  if (open) {
    if (input.declined.includes(open.mechanic_id)) {
      close = { tier: open.tier, mechanicId: open.mechanic_id, outcome: 'declined' };
    } else if (now >= (open.expires_at as number)) {
      close = { tier: open.tier, mechanicId: open.mechanic_id, outcome: 'timeout' };
    } else {
      const deadline = open.expires_at as number;
      return { kind: 'wait', ms: deadline - now, deadline };
    }
  } else if (reached === 0 && !input.priorityEnabled) {
    return { kind: 'step', step: { close: null, skip: [], open: null, broadcast: 'flag_disabled' } };
  }

  const skip: SkippedTier[] = [];
  for (let tier = reached + 1; tier <= plan.length; tier++) {
    const { mechanic_id: mechanicId, window_minutes: windowMinutes } = plan[tier - 1] as (typeof plan)[number];
    const mechanic = input.mechanics.get(mechanicId);
    let outcome: SkippedTier['outcome'] | null = null;
    if (input.declined.includes(mechanicId)) outcome = 'declined';
    else if (mechanic?.status !== 'approved') outcome = 'skipped_not_approved';
    else if (input.available.get(mechanicId) !== true) outcome = 'skipped_unavailable';
    if (outcome) {
      skip.push({ tier, mechanicId, windowMinutes, outcome });
      continue;
    }
    const expiresAt = now + windowMinutes * input.minuteMs;
    return {
      kind: 'step',
      step: { close, skip, open: { tier, mechanicId, windowMinutes, expiresAt }, broadcast: null },
    };
  }
  return { kind: 'step', step: { close, skip, open: null, broadcast: fallbackOf(r, close, skip) } };
}

/**
 * Why a sequence that ran out of tiers is broadcast: as its last offered tier ended (timed out or
 * declined); when no tier was ever offered, `priority_unavailable` if a favorite was skipped as
 * unavailable, `priority_declined` if one had declined, else `priority_failed` (none approved).
 */
function fallbackOf(r: RequestState, close: SequenceStep['close'], skip: SkippedTier[]): FallbackReason {
  const lastOffered = close ?? [...r.offers].reverse().find((o) => o.offered_at !== null);
  if (lastOffered) return lastOffered.outcome === 'declined' ? 'priority_declined' : 'priority_timeout';
  const outcomes = new Set([...r.offers.map((o) => o.outcome), ...skip.map((s) => s.outcome)]);
  if (outcomes.has('skipped_unavailable')) return 'priority_unavailable';
  if (outcomes.has('declined')) return 'priority_declined';
  return 'priority_failed';
}
