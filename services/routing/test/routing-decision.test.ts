import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MechanicState, RequestState } from '../src/domain/request-state.js';
import { decideRouting, type RoutingInput } from '../src/domain/routing-decision.js';

const MINUTE = 1000;
const NOW = 1_800_000_000_000;
const PREFERRED = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

function request(over: Partial<RequestState> = {}): RequestState {
  return {
    id: '33333333-3333-4333-8333-333333333333',
    customer_id: '44444444-4444-4444-8444-444444444444',
    status: 'pending',
    routing_type: 'priority_broadcast',
    preferred_mechanic_id: PREFERRED,
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    mechanic_id: null,
    priority_tiers: null,
    offers: [],
    ...over,
  };
}

const approved: MechanicState = { id: PREFERRED, status: 'approved' };

function input(over: Partial<RoutingInput> = {}): RoutingInput {
  return {
    request: request(),
    priorityEnabled: true,
    mechanic: approved,
    mechanics: new Map(),
    available: new Map([[PREFERRED, true]]),
    declined: [],
    now: NOW,
    minuteMs: MINUTE,
    ...over,
  };
}

describe('decideRouting: a request nobody has been offered yet', () => {
  it('offers the preferred mechanic a window of priority_window_minutes × minuteMs', () => {
    expect(decideRouting(input())).toEqual({
      kind: 'offer_priority',
      mechanicId: PREFERRED,
      expiresAt: NOW + 10 * MINUTE,
    });
    expect(decideRouting(input({ request: request({ priority_window_minutes: 3 }), minuteMs: 60_000 }))).toMatchObject({
      expiresAt: NOW + 180_000,
    });
  });

  it('broadcasts with flag_disabled when the flag is off for this customer', () => {
    expect(decideRouting(input({ priorityEnabled: false }))).toEqual({
      kind: 'broadcast',
      reason: 'flag_disabled',
      trigger: 'route',
    });
  });

  it('broadcasts with no reason for plain broadcast requests, flag on or off', () => {
    for (const priorityEnabled of [true, false]) {
      expect(decideRouting(input({ priorityEnabled, request: request({ routing_type: 'broadcast' }) }))).toEqual({
        kind: 'broadcast',
        reason: null,
        trigger: 'route',
      });
    }
  });

  it('broadcasts with no reason for workshop bookings, whatever else is set', () => {
    for (const priorityEnabled of [true, false]) {
      const r = request({ preferred_workshop_id: '55555555-5555-4555-8555-555555555555' });
      expect(decideRouting(input({ priorityEnabled, request: r }))).toEqual({
        kind: 'broadcast',
        reason: null,
        trigger: 'route',
      });
    }
  });

  it('broadcasts with priority_failed when the preferred mechanic is unknown, missing or not approved', () => {
    const failed = { kind: 'broadcast', reason: 'priority_failed', trigger: 'route' };
    expect(decideRouting(input({ request: request({ preferred_mechanic_id: null }), mechanic: null }))).toEqual(failed);
    expect(decideRouting(input({ mechanic: null }))).toEqual(failed);
    expect(decideRouting(input({ mechanic: { id: PREFERRED, status: 'pending' } }))).toEqual(failed);
    expect(decideRouting(input({ mechanic: { id: PREFERRED, status: 'suspended' } }))).toEqual(failed);
    expect(decideRouting(input({ mechanic: { id: OTHER, status: 'approved' } }))).toEqual(failed);
  });

  it('broadcasts with priority_declined when the preferred mechanic already declined', () => {
    expect(decideRouting(input({ declined: [PREFERRED] }))).toEqual({
      kind: 'broadcast',
      reason: 'priority_declined',
      trigger: 'declined',
    });
    // Someone else declining changes nothing.
    expect(decideRouting(input({ declined: [OTHER] }))).toMatchObject({ kind: 'offer_priority' });
  });
});

describe('decideRouting: an open window', () => {
  const open = (over: Partial<RequestState> = {}) =>
    request({ priority_notified_at: NOW - 4 * MINUTE, priority_expires_at: NOW + 6 * MINUTE, ...over });

  it('waits exactly the time left, measured from the stored deadline', () => {
    expect(decideRouting(input({ request: open() }))).toEqual({
      kind: 'wait',
      ms: 6 * MINUTE,
      deadline: NOW + 6 * MINUTE,
    });
  });

  it('ignores a changed minute length: the stored deadline wins', () => {
    expect(decideRouting(input({ request: open(), minuteMs: 60_000 }))).toMatchObject({ ms: 6 * MINUTE });
  });

  it('falls back to notified + window when no deadline was stored', () => {
    const r = open({ priority_expires_at: null });
    expect(decideRouting(input({ request: r }))).toEqual({ kind: 'wait', ms: 6 * MINUTE, deadline: NOW + 6 * MINUTE });
  });

  it('broadcasts with priority_timeout at the deadline and after it, not a millisecond before', () => {
    const r = open();
    expect(decideRouting(input({ request: r, now: NOW + 6 * MINUTE - 1 }))).toEqual({
      kind: 'wait',
      ms: 1,
      deadline: NOW + 6 * MINUTE,
    });
    for (const now of [NOW + 6 * MINUTE, NOW + 6 * MINUTE + 1, NOW + 3600_000]) {
      expect(decideRouting(input({ request: r, now }))).toEqual({
        kind: 'broadcast',
        reason: 'priority_timeout',
        trigger: 'timeout',
      });
    }
  });

  it('keeps the window even if the flag was switched off or the mechanic suspended meanwhile', () => {
    expect(decideRouting(input({ request: open(), priorityEnabled: false, mechanic: null }))).toMatchObject({
      kind: 'wait',
    });
  });

  it('ends the window with priority_declined once the preferred mechanic declined', () => {
    expect(decideRouting(input({ request: open(), declined: [PREFERRED] }))).toEqual({
      kind: 'broadcast',
      reason: 'priority_declined',
      trigger: 'declined',
    });
  });
});

describe('decideRouting: nothing left to do', () => {
  it('is done with an accepted, cancelled or already broadcast request', () => {
    expect(decideRouting(input({ request: request({ status: 'accepted' }) }))).toEqual({
      kind: 'done',
      why: 'accepted',
    });
    expect(decideRouting(input({ request: request({ status: 'cancelled' }) }))).toEqual({
      kind: 'done',
      why: 'cancelled',
    });
    expect(decideRouting(input({ request: request({ broadcast_at: NOW - 1 }) }))).toEqual({
      kind: 'done',
      why: 'broadcast',
    });
  });
});

// Every combination the function can see, checked against the rules stated once more, plainly.
const arbitraryInput = fc.record({
  status: fc.constantFrom('pending', 'accepted', 'cancelled' as const),
  routing_type: fc.constantFrom('broadcast', 'priority_broadcast' as const),
  preferred: fc.constantFrom(null, PREFERRED),
  workshop: fc.boolean(),
  window: fc.integer({ min: 1, max: 60 }),
  notifiedAgo: fc.option(fc.integer({ min: 0, max: 7_200_000 }), { nil: null }),
  storedDeadline: fc.boolean(),
  broadcast: fc.boolean(),
  flag: fc.boolean(),
  mechanic: fc.constantFrom(null, 'approved', 'pending', 'suspended' as const),
  declinedPreferred: fc.boolean(),
  declinedOther: fc.boolean(),
  available: fc.boolean(),
  minuteMs: fc.integer({ min: 1, max: 60_000 }),
});

describe('decideRouting: properties over every input', () => {
  it('follows the seed rules for every combination', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const notifiedAt = a.notifiedAgo === null ? null : NOW - a.notifiedAgo;
        const deadline = notifiedAt === null ? null : notifiedAt + a.window * a.minuteMs;
        const r = request({
          status: a.status as RequestState['status'],
          routing_type: a.routing_type as RequestState['routing_type'],
          preferred_mechanic_id: a.preferred,
          preferred_workshop_id: a.workshop ? '55555555-5555-4555-8555-555555555555' : null,
          priority_window_minutes: a.window,
          priority_notified_at: notifiedAt,
          priority_expires_at: a.storedDeadline ? deadline : null,
          broadcast_at: a.broadcast ? NOW - 10 : null,
        });
        const declined = [...(a.declinedPreferred ? [PREFERRED] : []), ...(a.declinedOther ? [OTHER] : [])];
        const mechanic = a.mechanic === null ? null : ({ id: PREFERRED, status: a.mechanic } as MechanicState);
        const d = decideRouting({
          request: r,
          priorityEnabled: a.flag,
          mechanic,
          mechanics: new Map(),
          available: new Map([[PREFERRED, a.available]]),
          declined,
          now: NOW,
          minuteMs: a.minuteMs,
        });

        if (a.status !== 'pending' || a.broadcast) return d.kind === 'done';
        if (deadline !== null) {
          if (a.declinedPreferred && a.preferred) return d.kind === 'broadcast' && d.reason === 'priority_declined';
          if (NOW >= deadline) return d.kind === 'broadcast' && d.reason === 'priority_timeout';
          return d.kind === 'wait' && d.ms === deadline - NOW && d.ms > 0;
        }
        if (a.workshop || a.routing_type === 'broadcast') return d.kind === 'broadcast' && d.reason === null;
        if (!a.flag) return d.kind === 'broadcast' && d.reason === 'flag_disabled';
        if (!a.preferred || a.mechanic !== 'approved') return d.kind === 'broadcast' && d.reason === 'priority_failed';
        if (a.declinedPreferred) return d.kind === 'broadcast' && d.reason === 'priority_declined';
        if (!a.available) return d.kind === 'broadcast' && d.reason === 'priority_unavailable' && d.trigger === 'route';
        return d.kind === 'offer_priority' && d.expiresAt === NOW + a.window * a.minuteMs && d.mechanicId === PREFERRED;
      }),
      { numRuns: 5000 },
    );
  });

  it('never broadcasts an open window before its deadline unless the preferred mechanic declined', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600_000 }), fc.integer({ min: 0, max: 1_200_000 }), (windowMs, elapsed) => {
        const r = request({ priority_notified_at: NOW - elapsed, priority_expires_at: NOW - elapsed + windowMs });
        const d = decideRouting(input({ request: r }));
        return elapsed < windowMs ? d.kind === 'wait' : d.kind === 'broadcast' && d.reason === 'priority_timeout';
      }),
    );
  });

  it('is deterministic: the same input gives the same decision', () => {
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const r = request({ status: a.status as RequestState['status'], priority_window_minutes: a.window });
        const i = input({ request: r, priorityEnabled: a.flag });
        expect(decideRouting(i)).toEqual(decideRouting(i));
      }),
    );
  });
});
