import { randomUUID } from 'node:crypto';
import type { EventKind, OfferOutcome, RequestEvent, SeenEvent, SessionRequest } from '@dibs/contracts';
import { requestEvent, toSessionRequest } from '@dibs/db';
import { ackLog, PLANS, type Price } from './acks.js';

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
  /** The price its `accepted` event states (null: not accepted, or an unknown plan). */
  price: Price | null;
  /** The first seen ack of each mechanic that acked an offer of it (priority or broadcast). */
  seen: SeenEvent[];
  /** Later repeats of some of those acks (a later `seen_at`): analytics must keep the first. */
  seenRepeats: SeenEvent[];
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
  /** The plan booked (a key of PLANS); `basic` when not given. */
  plan?: string;
  /** The experiment arm a single-priority request is enrolled in, and that arm's window. */
  experiment?: { key: string; arm: string; window_minutes: number } | null;
}

export function lifecycle(outcome: Outcome, input: LifeInput): GeneratedRequest {
  const { customer, preferred, other, created, rnd, between, experiment = null } = input;
  const plan = input.plan ?? 'basic';
  const window = experiment?.window_minutes ?? WINDOW_MINUTES;
  const iso = (ms: number) => new Date(ms).toISOString();
  const id = randomUUID();
  const acks = ackLog(id, rnd);
  let row: SessionRequest = {
    id,
    customer_id: customer.id,
    customer_name: customer.name,
    customer_email: null,
    session_type: 'video',
    plan_code: plan,
    status: 'pending',
    routing_type: preferred ? 'priority_broadcast' : 'broadcast',
    preferred_mechanic_id: preferred,
    preferred_workshop_id: outcome === 'workshop' ? randomUUID() : null,
    priority_window_minutes: window,
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
    experiment: experiment && { key: experiment.key, arm: experiment.arm },
  };
  const events: RequestEvent[] = [];
  const price = PLANS[plan] ?? null;
  const emit = (kind: EventKind, at: number, change: Partial<SessionRequest>, actor: string | null = null) => {
    // The offers of a single request are read from its columns, as routing's events show them.
    row = toSessionRequest({
      ...row,
      ...change,
      experiment_key: experiment?.key ?? null,
      experiment_arm: experiment?.arm ?? null,
    });
    const opts = { at: new Date(at), actorMechanicId: actor, price: kind === 'accepted' ? price : null };
    events.push(requestEvent(kind, row, opts).payload as RequestEvent);
  };
  const done = (): GeneratedRequest => ({
    outcome,
    final: row,
    events,
    tiers: [],
    price: row.status === 'accepted' ? price : null,
    seen: acks.seen(),
    seenRepeats: acks.repeats(),
  });
  emit('created', created, {});
  let t = created + between(50, 900);
  if (PRIORITY_OUTCOMES.has(outcome)) {
    const deadline = t + window * MINUTE;
    emit('priority_notified', t, { priority_notified_at: iso(t), priority_expires_at: iso(deadline) });
    // Most apps ack the offer, always before the mechanic answers it (≥ 2 s in).
    if (rnd() < 0.7) acks.ack(preferred as string, 'priority', 1, t + between(200, 1_900));
    const inWindow = t + between(2_000, window * MINUTE - 1_000);
    if (outcome === 'accepted_by_preferred') {
      emit('accepted', inWindow, { status: 'accepted', mechanic_id: preferred, accepted_at: iso(inWindow) }, preferred);
      return done();
    }
    if (outcome === 'cancelled_in_window') {
      emit('cancelled', inWindow, { status: 'cancelled', cancelled_at: iso(inWindow) });
      return done();
    }
    if (outcome === 'window_open') return done();
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
  // Acks of the broadcast frame, which no priority offer counts: the preferred mechanic's when it
  // did not ack its own offer, and another mechanic's.
  if (preferred && rnd() < 0.5) acks.ack(preferred, 'broadcast', null, t + between(100, 900));
  if (rnd() < 0.5) acks.ack(other, 'broadcast', null, t + between(100, 900));
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
  return done();
}

/** A broadcast-only request ends accepted (sometimes by the mechanic it preferred), pending or cancelled. */
function pickEnding(rnd: () => number, preferredOrOther: string, other: string): string | null {
  const x = rnd();
  if (x < 0.3) return preferredOrOther;
  if (x < 0.7) return other;
  if (x < 0.85) return 'cancel';
  return null;
}

/**
 * One request's life with made-up ids, without a database (unit tests); every other seed is
 * enrolled in an experiment arm, and the plan cycles through PLANS.
 */
export function lifecycleOnly(outcome: Outcome, seed: number): GeneratedRequest {
  const rnd = prng(seed);
  const preferred = outcome === 'plain_broadcast' ? null : randomUUID();
  return lifecycle(outcome, {
    customer: { id: randomUUID(), name: 'Customer' },
    preferred,
    other: randomUUID(),
    created: Date.UTC(2026, 0, 1) + seed * 3_600_000,
    rnd,
    between: (lo, hi) => Math.floor(lo + rnd() * (hi - lo)),
    plan: Object.keys(PLANS)[seed % Object.keys(PLANS).length],
    experiment: preferred && seed % 2 ? { key: 'window-length', arm: 'short', window_minutes: 6 } : null,
  });
}
