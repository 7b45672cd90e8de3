import { randomUUID } from 'node:crypto';
import type { EventKind, FallbackReason, Offer, RequestEvent, SessionRequest } from '@dibs/contracts';
import { requestEvent, toSessionRequest } from '@dibs/db';
import { ackLog, PLANS } from './acks.js';
import { type GeneratedRequest, type LifeInput, MINUTE, prng, type SequenceOutcome, type Tier } from './lifecycle.js';

/** The admin's default tier windows (CONTRACT §6), in minutes: tier i gets the i-th. */
export const TIER_WINDOWS = [5, 3, 2] as const;

type Fate = Tier['fate'];

/** The fates of the tiers a life reaches, one variant of its outcome picked at random. */
function planOf(outcome: SequenceOutcome, rnd: () => number): Fate[] {
  const pick = (...plans: Fate[][]): Fate[] => plans[Math.floor(rnd() * plans.length)]!;
  switch (outcome) {
    case 'seq_accepted_tier1':
      return ['accepted'];
    case 'seq_accepted_tier2':
      return ['timeout', 'accepted'];
    case 'seq_declined_then_accepted':
      return pick(['declined', 'accepted'], ['timeout', 'declined', 'accepted']);
    case 'seq_skipped_then_accepted':
      return pick(
        ['skipped_unavailable', 'accepted'],
        ['skipped_not_approved', 'timeout', 'accepted'],
        ['skipped_unavailable', 'skipped_not_approved', 'accepted'],
      );
    case 'seq_all_timeout':
      return pick(
        ['timeout', 'timeout', 'timeout'],
        ['timeout', 'skipped_unavailable', 'timeout'],
        ['timeout'],
        ['skipped_not_approved', 'timeout'],
        ['timeout', 'timeout', 'skipped_not_approved'],
      );
    case 'seq_last_declined':
      return pick(
        ['timeout', 'declined'],
        ['declined'],
        ['skipped_unavailable', 'declined'],
        ['declined', 'skipped_unavailable'],
      );
    case 'seq_all_skipped':
      return pick(
        ['skipped_unavailable', 'skipped_unavailable'],
        ['skipped_unavailable'],
        ['skipped_not_approved', 'skipped_unavailable', 'skipped_unavailable'],
      );
    case 'seq_all_not_approved':
      return ['skipped_not_approved'];
    case 'seq_cancelled_in_tier':
      return pick(['timeout', 'withdrawn'], ['withdrawn']);
    case 'seq_tier_open':
      return pick(['timeout', 'open'], ['skipped_unavailable', 'open']);
    case 'seq_flag_off':
      return [];
    case 'single_unavailable':
      return ['skipped_unavailable'];
  }
}

export interface SequenceInput extends Omit<LifeInput, 'preferred' | 'experiment'> {
  /** At least three approved mechanics in rank order (a life uses those its tiers need). */
  favorites: string[];
  /** A favorite that is not approved: the mechanic of every `skipped_not_approved` tier. */
  notApproved: string;
}

/**
 * One issue-12 life and the events routing publishes for it (CONTRACT §6): `created`; for a
 * sequence a `priority_notified` each time a tier opens (its offers show the tiers reached so far,
 * skipped ones included), `declined` when its mechanic says no, `broadcast` once the favorites are
 * exhausted, and `accepted` / `cancelled`. `priority_notified_at` is the first offer;
 * `priority_expires_at` stays null. A single preferred mechanic found unavailable is broadcast at
 * once with `priority_unavailable` (its one skipped offer is read from its columns).
 */
export function sequenceLifecycle(outcome: SequenceOutcome, input: SequenceInput): GeneratedRequest {
  const { customer, favorites, notApproved, other, created, rnd, between } = input;
  const planCode = input.plan ?? 'basic';
  const price = PLANS[planCode] ?? null;
  const iso = (ms: number) => new Date(ms).toISOString();
  const single = outcome === 'single_unavailable';
  const plan = planOf(outcome, rnd);
  const ranked = [...favorites];
  const mechanics = plan.map((fate) => (fate === 'skipped_not_approved' ? notApproved : ranked.shift()!));
  const id = randomUUID();
  const acks = ackLog(id, rnd);
  let row: SessionRequest = {
    id,
    customer_id: customer.id,
    customer_name: customer.name,
    customer_email: null,
    session_type: 'video',
    plan_code: planCode,
    status: 'pending',
    routing_type: single ? 'priority_broadcast' : 'priority_sequence',
    preferred_mechanic_id: mechanics[0] ?? favorites[0]!,
    preferred_workshop_id: null,
    priority_window_minutes: single ? 10 : TIER_WINDOWS[0],
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
    experiment: null,
  };
  const offers: Offer[] = [];
  const tiers: Tier[] = [];
  const events: RequestEvent[] = [];
  const emit = (kind: EventKind, at: number, change: Partial<SessionRequest>, actor: string | null = null) => {
    // toSessionRequest copies the offers, so each event keeps the tiers as they were then.
    row = toSessionRequest({ ...row, ...change, offers });
    const opts = { at: new Date(at), actorMechanicId: actor, price: kind === 'accepted' ? price : null };
    events.push(requestEvent(kind, row, opts).payload as RequestEvent);
  };
  const done = (): GeneratedRequest => ({
    outcome,
    final: row,
    events,
    tiers,
    price: row.status === 'accepted' ? price : null,
    seen: acks.seen(),
    seenRepeats: acks.repeats(),
  });

  emit('created', created, {});
  let t = created + between(50, 900);
  for (const [i, fate] of plan.entries()) {
    const mechanic = mechanics[i]!;
    const tier = i + 1;
    if (fate === 'skipped_unavailable' || fate === 'skipped_not_approved') {
      // Shown by the next event: the next tier's offer or the broadcast.
      if (!single) offers.push({ mechanic_id: mechanic, tier, offered_at: null, expires_at: null, outcome: fate });
      tiers.push({ mechanic_id: mechanic, fate, offered_at: null });
      continue;
    }
    const window = TIER_WINDOWS[i]! * MINUTE;
    const offer: Offer = {
      mechanic_id: mechanic,
      tier,
      offered_at: iso(t),
      expires_at: iso(t + window),
      outcome: null,
    };
    offers.push(offer);
    tiers.push({ mechanic_id: mechanic, fate, offered_at: t });
    emit('priority_notified', t, row.priority_notified_at ? {} : { priority_notified_at: iso(t) });
    // Most apps ack the tier's offer, always before the mechanic answers it (≥ 2 s in).
    if (rnd() < 0.7) acks.ack(mechanic, 'priority', tier, t + between(200, 1_900));
    const inTier = t + between(2_000, window - 1_000);
    if (fate === 'accepted') {
      offer.outcome = 'accepted';
      emit('accepted', inTier, { status: 'accepted', mechanic_id: mechanic, accepted_at: iso(inTier) }, mechanic);
      return done();
    }
    if (fate === 'withdrawn') {
      offer.outcome = 'withdrawn';
      emit('cancelled', inTier, { status: 'cancelled', cancelled_at: iso(inTier) });
      return done();
    }
    if (fate === 'open') return done();
    if (fate === 'declined') {
      offer.outcome = 'declined';
      emit('declined', inTier, {}, mechanic);
      t = inTier;
    } else {
      // Timed out: nothing is published at the deadline; the next tier's offer or the broadcast shows it.
      offer.outcome = 'timeout';
      t += window + between(5, 900);
    }
  }

  const offered = tiers.filter((x) => x.offered_at !== null);
  const reason: FallbackReason =
    outcome === 'seq_flag_off'
      ? 'flag_disabled'
      : offered.length === 0
        ? tiers.every((x) => x.fate === 'skipped_not_approved')
          ? 'priority_failed'
          : 'priority_unavailable'
        : offered.at(-1)!.fate === 'declined'
          ? 'priority_declined'
          : 'priority_timeout';
  emit('broadcast', t, { broadcast_at: iso(t), fallback_reason: reason });
  // An ack of the broadcast frame, which no priority offer counts.
  if (rnd() < 0.5) acks.ack(other, 'broadcast', null, t + between(100, 900));
  // After the broadcast anyone may take it: a favorite (which is no acceptance inside a tier), another mechanic, or nobody.
  const after = t + between(1_000, 30 * MINUTE);
  const x = rnd();
  const favorite = offered[0]?.mechanic_id ?? (single ? row.preferred_mechanic_id! : other);
  const acceptedBy = x < 0.25 ? favorite : x < 0.6 ? other : null;
  if (acceptedBy) {
    emit('accepted', after, { status: 'accepted', mechanic_id: acceptedBy, accepted_at: iso(after) }, acceptedBy);
  } else if (x < 0.8) {
    emit('cancelled', after, { status: 'cancelled', cancelled_at: iso(after) });
  }
  return done();
}

/** One issue-12 life with made-up ids, without a database (unit tests). */
export function sequenceLifecycleOnly(outcome: SequenceOutcome, seed: number): GeneratedRequest {
  const rnd = prng(seed);
  return sequenceLifecycle(outcome, {
    customer: { id: randomUUID(), name: 'Customer' },
    favorites: [randomUUID(), randomUUID(), randomUUID()],
    notApproved: randomUUID(),
    other: randomUUID(),
    created: Date.UTC(2026, 0, 1) + seed * 3_600_000,
    rnd,
    between: (lo, hi) => Math.floor(lo + rnd() * (hi - lo)),
  });
}
