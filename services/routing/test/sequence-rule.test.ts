import type { OfferOutcome } from '@dibs/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MechanicState, OfferState, RequestState } from '../src/domain/request-state.js';
import { decideRouting, type RoutingInput } from '../src/domain/routing-decision.js';

// The sequence rule (src/domain/rules/sequence.ts) through the routing decision: examples of each
// way a tier ends, then properties over generated plans, offers reached so far, decliners,
// approvals, availability and clocks.

const MINUTE = 1000;
const NOW = 1_800_000_000_000;
const M: readonly string[] = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
];
const [FIRST, SECOND, THIRD] = M;

function sequence(over: Partial<RequestState> = {}): RequestState {
  return {
    id: '44444444-4444-4444-8444-444444444444',
    customer_id: '55555555-5555-4555-8555-555555555555',
    status: 'pending',
    routing_type: 'priority_sequence',
    preferred_mechanic_id: FIRST,
    preferred_workshop_id: null,
    priority_window_minutes: 5,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    mechanic_id: null,
    priority_tiers: [
      { mechanic_id: FIRST, window_minutes: 5 },
      { mechanic_id: SECOND, window_minutes: 3 },
      { mechanic_id: THIRD, window_minutes: 2 },
    ],
    offers: [],
    ...over,
  };
}

const everyone = (status: MechanicState['status'] = 'approved') => new Map(M.map((id) => [id, { id, status }]));
const allAvailable = () => new Map(M.map((id) => [id, true]));

function input(over: Partial<RoutingInput> = {}): RoutingInput {
  return {
    request: sequence(),
    priorityEnabled: true,
    mechanic: null,
    mechanics: everyone(),
    available: allAvailable(),
    declined: [],
    now: NOW,
    minuteMs: MINUTE,
    ...over,
  };
}

const offered = (tier: number, mechanicId: string, at: number, minutes: number, outcome: OfferOutcome | null = null) =>
  ({ tier, mechanic_id: mechanicId, offered_at: at, expires_at: at + minutes * MINUTE, outcome }) as OfferState;

describe('decideRouting: a sequence', () => {
  it('opens tier 1 for the rank-1 favorite with its own window', () => {
    expect(decideRouting(input())).toEqual({
      kind: 'sequence',
      step: {
        close: null,
        skip: [],
        open: { tier: 1, mechanicId: FIRST, windowMinutes: 5, expiresAt: NOW + 5 * MINUTE },
        broadcast: null,
      },
    });
  });

  it('skips an unavailable favorite and one not approved, recording why, and offers the next', () => {
    const d = decideRouting(
      input({
        available: new Map([
          [FIRST, false],
          [SECOND, true],
          [THIRD, true],
        ]),
        mechanics: new Map([
          [FIRST, { id: FIRST, status: 'approved' }],
          [SECOND, { id: SECOND, status: 'suspended' }],
          [THIRD, { id: THIRD, status: 'approved' }],
        ]),
      }),
    );
    expect(d).toEqual({
      kind: 'sequence',
      step: {
        close: null,
        skip: [
          { tier: 1, mechanicId: FIRST, windowMinutes: 5, outcome: 'skipped_unavailable' },
          { tier: 2, mechanicId: SECOND, windowMinutes: 3, outcome: 'skipped_not_approved' },
        ],
        open: { tier: 3, mechanicId: THIRD, windowMinutes: 2, expiresAt: NOW + 2 * MINUTE },
        broadcast: null,
      },
    });
  });

  it('waits for an open tier until its stored deadline, then ends it and opens the next', () => {
    const r = sequence({ offers: [offered(1, FIRST, NOW - 4 * MINUTE, 5)], priority_notified_at: NOW - 4 * MINUTE });
    expect(decideRouting(input({ request: r }))).toEqual({ kind: 'wait', ms: MINUTE, deadline: NOW + MINUTE });
    expect(decideRouting(input({ request: r, now: NOW + MINUTE - 1 }))).toMatchObject({ kind: 'wait', ms: 1 });
    expect(decideRouting(input({ request: r, now: NOW + MINUTE }))).toEqual({
      kind: 'sequence',
      step: {
        close: { tier: 1, mechanicId: FIRST, outcome: 'timeout' },
        skip: [],
        open: { tier: 2, mechanicId: SECOND, windowMinutes: 3, expiresAt: NOW + MINUTE + 3 * MINUTE },
        broadcast: null,
      },
    });
  });

  it('ends the open tier at once when its mechanic declined', () => {
    const r = sequence({ offers: [offered(1, FIRST, NOW - MINUTE, 5)] });
    expect(decideRouting(input({ request: r, declined: [FIRST] }))).toMatchObject({
      kind: 'sequence',
      step: { close: { tier: 1, outcome: 'declined' }, open: { tier: 2, mechanicId: SECOND } },
    });
  });

  it('broadcasts after the last tier as that tier ended: timed out or declined', () => {
    const last = sequence({
      offers: [
        offered(1, FIRST, NOW - 10 * MINUTE, 5, 'timeout'),
        offered(2, SECOND, NOW - 5 * MINUTE, 3, 'timeout'),
        offered(3, THIRD, NOW - 2 * MINUTE, 2),
      ],
    });
    expect(decideRouting(input({ request: last }))).toEqual({
      kind: 'sequence',
      step: {
        close: { tier: 3, mechanicId: THIRD, outcome: 'timeout' },
        skip: [],
        open: null,
        broadcast: 'priority_timeout',
      },
    });
    expect(decideRouting(input({ request: last, now: NOW - MINUTE, declined: [THIRD] }))).toMatchObject({
      kind: 'sequence',
      step: { open: null, broadcast: 'priority_declined' },
    });
  });

  it('broadcasts at once with priority_unavailable when every favorite is skipped', () => {
    const d = decideRouting(input({ available: new Map() }));
    expect(d).toMatchObject({ kind: 'sequence', step: { open: null, broadcast: 'priority_unavailable' } });
    expect(d.kind === 'sequence' && d.step.skip.map((s) => s.outcome)).toEqual([
      'skipped_unavailable',
      'skipped_unavailable',
      'skipped_unavailable',
    ]);
    expect(decideRouting(input({ mechanics: everyone('pending') }))).toMatchObject({
      step: { open: null, broadcast: 'priority_failed' },
    });
  });

  it('broadcasts with flag_disabled, offering nothing, when the flag is off before the first tier', () => {
    expect(decideRouting(input({ priorityEnabled: false }))).toEqual({
      kind: 'sequence',
      step: { close: null, skip: [], open: null, broadcast: 'flag_disabled' },
    });
    // Once a tier is open the flag no longer matters: the sequence runs its course.
    const running = sequence({ offers: [offered(1, FIRST, NOW - MINUTE, 5)] });
    expect(decideRouting(input({ request: running, priorityEnabled: false }))).toMatchObject({ kind: 'wait' });
  });

  it('has nothing to do once accepted, cancelled or broadcast', () => {
    expect(decideRouting(input({ request: sequence({ status: 'accepted' }) }))).toEqual({
      kind: 'done',
      why: 'accepted',
    });
    expect(decideRouting(input({ request: sequence({ status: 'cancelled' }) }))).toEqual({
      kind: 'done',
      why: 'cancelled',
    });
    expect(decideRouting(input({ request: sequence({ broadcast_at: NOW }) }))).toEqual({
      kind: 'done',
      why: 'broadcast',
    });
  });
});

// A sequence somewhere along its course: how many tiers were reached, and how the reached ones ended.
const arbitrarySequence = fc.record({
  tiers: fc.array(fc.record({ mechanic: fc.constantFrom(...M), window: fc.integer({ min: 1, max: 120 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  reached: fc.integer({ min: 0, max: 3 }),
  lastOpen: fc.boolean(),
  openedAgo: fc.integer({ min: 0, max: 200 * MINUTE }),
  endedAs: fc.array(
    fc.constantFrom<OfferOutcome>('timeout', 'declined', 'skipped_unavailable', 'skipped_not_approved'),
    {
      minLength: 3,
      maxLength: 3,
    },
  ),
  approved: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  available: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  declined: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  flag: fc.boolean(),
  minuteMs: fc.integer({ min: 1, max: 60_000 }),
});

type Generated = typeof arbitrarySequence extends fc.Arbitrary<infer T> ? T : never;

function build(a: Generated) {
  const plan = a.tiers.map((t) => ({ mechanic_id: t.mechanic, window_minutes: t.window }));
  const reached = Math.min(a.reached, plan.length);
  const offers: OfferState[] = plan.slice(0, reached).map((t, i) => {
    const tier = i + 1;
    const isOpen = tier === reached && a.lastOpen;
    const at = NOW - a.openedAgo;
    const outcome = isOpen ? null : (a.endedAs[i] as OfferOutcome);
    const skipped = outcome === 'skipped_unavailable' || outcome === 'skipped_not_approved';
    return {
      tier,
      mechanic_id: t.mechanic_id,
      offered_at: skipped ? null : at,
      expires_at: skipped ? null : at + t.window_minutes * a.minuteMs,
      outcome,
    };
  });
  const request = sequence({ priority_tiers: plan, offers });
  const mechanics = new Map(
    M.map((id, i) => [id, { id, status: a.approved[i] ? 'approved' : 'suspended' } as MechanicState]),
  );
  const available = new Map(M.map((id, i) => [id, a.available[i] as boolean]));
  const declined = M.filter((_, i) => a.declined[i]);
  return { request, plan, offers, mechanics, available, declined };
}

describe('decideRouting: properties of every sequence', () => {
  it('moves forward only: skips contiguous tiers, opens the next tier for an approved, available, willing favorite, or broadcasts', () => {
    fc.assert(
      fc.property(arbitrarySequence, (a) => {
        const { request, plan, offers, mechanics, available, declined } = build(a);
        const d = decideRouting(
          input({ request, mechanics, available, declined, priorityEnabled: a.flag, minuteMs: a.minuteMs }),
        );
        const open = offers.find((o) => o.outcome === null);
        if (open && !declined.includes(open.mechanic_id) && NOW < (open.expires_at as number)) {
          return d.kind === 'wait' && d.deadline === open.expires_at && d.ms === d.deadline - NOW;
        }
        if (d.kind !== 'sequence') return false;
        const { close, skip, open: next, broadcast } = d.step;
        // The open tier, and only it, ends: declined if its mechanic said no, else at its deadline.
        if (open) {
          if (close?.tier !== open.tier) return false;
          if (close.outcome !== (declined.includes(open.mechanic_id) ? 'declined' : 'timeout')) return false;
        } else if (close !== null) return false;
        if (!open && offers.length === 0 && !a.flag) return broadcast === 'flag_disabled' && next === null;
        // Skipped tiers follow the last reached one without a gap, each for a reason that holds.
        const first = offers.length + 1;
        for (const [i, s] of skip.entries()) {
          if (s.tier !== first + i || s.mechanicId !== plan[s.tier - 1]?.mechanic_id) return false;
          const ok =
            (s.outcome === 'declined' && declined.includes(s.mechanicId)) ||
            (s.outcome === 'skipped_not_approved' && mechanics.get(s.mechanicId)?.status !== 'approved') ||
            (s.outcome === 'skipped_unavailable' && available.get(s.mechanicId) !== true);
          if (!ok) return false;
        }
        if (next) {
          const planned = plan[next.tier - 1];
          return (
            broadcast === null &&
            next.tier === first + skip.length &&
            next.mechanicId === planned?.mechanic_id &&
            next.windowMinutes === planned.window_minutes &&
            next.expiresAt === NOW + planned.window_minutes * a.minuteMs &&
            mechanics.get(next.mechanicId)?.status === 'approved' &&
            available.get(next.mechanicId) === true &&
            !declined.includes(next.mechanicId)
          );
        }
        // Out of tiers: every remaining one skipped, then the broadcast says how the last offered tier ended.
        if (first + skip.length !== plan.length + 1 || broadcast === null) return false;
        const lastOffered = close ?? [...offers].reverse().find((o) => o.offered_at !== null);
        if (lastOffered)
          return broadcast === (lastOffered.outcome === 'declined' ? 'priority_declined' : 'priority_timeout');
        return ['priority_unavailable', 'priority_declined', 'priority_failed'].includes(broadcast);
      }),
      { numRuns: 5000, seed: 20261130 },
    );
  });

  it('never ends a tier before its deadline unless its mechanic declined', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 300 * MINUTE }), (minutes, elapsed) => {
        const r = sequence({ offers: [offered(1, FIRST, NOW - elapsed, minutes)] });
        const d = decideRouting(input({ request: r }));
        return elapsed < minutes * MINUTE
          ? d.kind === 'wait'
          : d.kind === 'sequence' && d.step.close?.outcome === 'timeout';
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(arbitrarySequence, (a) => {
        const { request, mechanics, available, declined } = build(a);
        const i = input({ request, mechanics, available, declined, priorityEnabled: a.flag, minuteMs: a.minuteMs });
        expect(decideRouting(i)).toEqual(decideRouting(i));
      }),
    );
  });
});
