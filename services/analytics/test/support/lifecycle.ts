import { randomUUID } from 'node:crypto';
import type { EventKind, OfferOutcome, RequestEvent, SessionRequest } from '@dibs/contracts';
import { requestEvent, toSessionRequest } from '@dibs/db';

/** How a generated request's life went; the hand-computed answers are counted from these. */
export const OUTCOMES = [
  'accepted_by_preferred',
  'timeout_accepted_by_other',
  'timeout_accepted_by_preferred',
  'timeout_pending',
  'timeout_cancelled',
  'declined_accepted_by_other',
  'declined_pending',
  'cancelled_in_window',
  'window_open',
  'flag_off',
  'priority_failed',
  'plain_broadcast',
  'workshop',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes where a priority window really happened (preferred mechanic + priority_notified_at). */
export const PRIORITY_OUTCOMES: ReadonlySet<AnyOutcome> = new Set(OUTCOMES.slice(0, 9));

/**
 * Lives only possible since issue 12: ranked favorites offered in sequence (`seq_*`), and a single
 * preferred mechanic routing found unavailable. Each one's tiers are in `GeneratedRequest.tiers`.
 */
export const SEQUENCE_OUTCOMES = [
  'seq_accepted_tier1',
  'seq_accepted_tier2',
  'seq_declined_then_accepted',
  'seq_skipped_then_accepted',
  'seq_all_timeout',
  'seq_last_declined',
  'seq_all_skipped',
  'seq_all_not_approved',
  'seq_cancelled_in_tier',
  'seq_tier_open',
  'seq_flag_off',
  'single_unavailable',
] as const;
export type SequenceOutcome = (typeof SEQUENCE_OUTCOMES)[number];
export type AnyOutcome = Outcome | SequenceOutcome;

/**
 * How one tier went, as the generator decided it: skipped, or offered at `offered_at` (ms) and
 * then accepted, declined, timed out, withdrawn (cancelled) or still open.
 */
export interface Tier {
  mechanic_id: string;
  fate: OfferOutcome | 'open';
  offered_at: number | null;
}

export interface GeneratedRequest {
  outcome: AnyOutcome;
  /** The row as it ends (with its offers); its columns are also inserted into session_requests. */
  final: SessionRequest;
  /** Lifecycle events in the order routing would have emitted them. */
  events: RequestEvent[];
  /** The tiers reached, in order (issue-12 lives only; empty for the others). */
  tiers: Tier[];
}

/** A small seeded PRNG so a failing run can be replayed exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const MINUTE = 60_000;
export const WINDOW_MINUTES = 10;

export function chooseOutcome(rnd: () => number, skill: number, windowOpen: boolean): Outcome {
  if (windowOpen) return 'window_open';
  const x = rnd();
  if (x < 0.6) {
    // A priority window: the preferred mechanic's skill decides how it ends.
    if (rnd() < skill) return 'accepted_by_preferred';
    const y = rnd();
    if (y < 0.35) return rnd() < 0.7 ? 'timeout_accepted_by_other' : 'timeout_accepted_by_preferred';
    if (y < 0.5) return 'timeout_pending';
    if (y < 0.58) return 'timeout_cancelled';
    if (y < 0.8) return rnd() < 0.7 ? 'declined_accepted_by_other' : 'declined_pending';
    return 'cancelled_in_window';
  }
  if (x < 0.72) return 'flag_off';
  if (x < 0.82) return 'priority_failed';
  if (x < 0.94) return 'plain_broadcast';
  return 'workshop';
}

export interface LifeInput {
  customer: { id: string; name: string };
  preferred: string | null;
  other: string;
  created: number;
  rnd: () => number;
  between: (lo: number, hi: number) => number;
}

export function lifecycle(outcome: Outcome, input: LifeInput): GeneratedRequest {
  const { customer, preferred, other, created, rnd, between } = input;
  const iso = (ms: number) => new Date(ms).toISOString();
  let row: SessionRequest = {
    id: randomUUID(),
    customer_id: customer.id,
    customer_name: customer.name,
    customer_email: null,
    session_type: 'video',
    plan_code: 'basic',
    status: 'pending',
    routing_type: preferred ? 'priority_broadcast' : 'broadcast',
    preferred_mechanic_id: preferred,
    preferred_workshop_id: outcome === 'workshop' ? randomUUID() : null,
    priority_window_minutes: WINDOW_MINUTES,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: iso(created),
    offers: [],
    current_tier: null,
  };
  const events: RequestEvent[] = [];
  const emit = (kind: EventKind, at: number, change: Partial<SessionRequest>, actor: string | null = null) => {
    // The offers of a single request are read from its columns, as routing's events show them.
    row = toSessionRequest({ ...row, ...change });
    events.push(requestEvent(kind, row, { at: new Date(at), actorMechanicId: actor }).payload as RequestEvent);
  };
  emit('created', created, {});
  let t = created + between(50, 900);
  if (PRIORITY_OUTCOMES.has(outcome)) {
    const deadline = t + WINDOW_MINUTES * MINUTE;
    emit('priority_notified', t, { priority_notified_at: iso(t), priority_expires_at: iso(deadline) });
    const inWindow = t + between(2_000, WINDOW_MINUTES * MINUTE - 1_000);
    if (outcome === 'accepted_by_preferred') {
      emit('accepted', inWindow, { status: 'accepted', mechanic_id: preferred, accepted_at: iso(inWindow) }, preferred);
      return { outcome, final: row, events, tiers: [] };
    }
    if (outcome === 'cancelled_in_window') {
      emit('cancelled', inWindow, { status: 'cancelled', cancelled_at: iso(inWindow) });
      return { outcome, final: row, events, tiers: [] };
    }
    if (outcome === 'window_open') return { outcome, final: row, events, tiers: [] };
    if (outcome.startsWith('declined')) {
      const fallback = { broadcast_at: iso(inWindow), fallback_reason: 'priority_declined' as const };
      emit('declined', inWindow, fallback, preferred);
      emit('broadcast', inWindow, fallback);
      t = inWindow;
    } else {
      t = deadline + between(5, 900);
      emit('broadcast', t, { broadcast_at: iso(t), fallback_reason: 'priority_timeout' });
    }
  } else {
    const reason = outcome === 'flag_off' ? 'flag_disabled' : outcome === 'priority_failed' ? 'priority_failed' : null;
    emit('broadcast', t, { broadcast_at: iso(t), fallback_reason: reason });
  }
  const after = t + between(1_000, 30 * MINUTE);
  const acceptedBy =
    outcome === 'timeout_accepted_by_preferred'
      ? preferred
      : outcome.endsWith('accepted_by_other')
        ? other
        : ['flag_off', 'priority_failed', 'plain_broadcast', 'workshop'].includes(outcome)
          ? pickEnding(rnd, outcome === 'flag_off' || outcome === 'workshop' ? (preferred ?? other) : other, other)
          : null;
  if (acceptedBy === 'cancel' || outcome === 'timeout_cancelled') {
    emit('cancelled', after, { status: 'cancelled', cancelled_at: iso(after) });
  } else if (acceptedBy) {
    emit('accepted', after, { status: 'accepted', mechanic_id: acceptedBy, accepted_at: iso(after) }, acceptedBy);
  }
  return { outcome, final: row, events, tiers: [] };
}

/** A broadcast-only request ends accepted (sometimes by the mechanic it preferred), pending or cancelled. */
function pickEnding(rnd: () => number, preferredOrOther: string, other: string): string | null {
  const x = rnd();
  if (x < 0.3) return preferredOrOther;
  if (x < 0.7) return other;
  if (x < 0.85) return 'cancel';
  return null;
}

/** One request's life with made-up ids, without a database (unit tests). */
export function lifecycleOnly(outcome: Outcome, seed: number): GeneratedRequest {
  const rnd = prng(seed);
  return lifecycle(outcome, {
    customer: { id: randomUUID(), name: 'Customer' },
    preferred: outcome === 'plain_broadcast' ? null : randomUUID(),
    other: randomUUID(),
    created: Date.UTC(2026, 0, 1) + seed * 3_600_000,
    rnd,
    between: (lo, hi) => Math.floor(lo + rnd() * (hi - lo)),
  });
}
