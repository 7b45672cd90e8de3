import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancelVerdict, declineVerdict, offeredTo } from '../src/domain/command-rules.js';
import type { MechanicState, RequestState } from '../src/domain/request-state.js';
import { acceptVerdict } from '../src/domain/rules/accept.js';

const NOW = 1_800_000_000_000;
const MINUTE = 1000;
const PREFERRED = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const CUSTOMER = '44444444-4444-4444-8444-444444444444';

function request(over: Partial<RequestState> = {}): RequestState {
  return {
    id: '33333333-3333-4333-8333-333333333333',
    customer_id: CUSTOMER,
    status: 'pending',
    routing_type: 'priority_broadcast',
    preferred_mechanic_id: PREFERRED,
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: NOW - 2 * MINUTE,
    priority_expires_at: NOW + 8 * MINUTE,
    broadcast_at: null,
    mechanic_id: null,
    priority_tiers: null,
    offers: [],
    ...over,
  };
}
const approved = (id: string): MechanicState => ({ id, status: 'approved' });
const accept = (r: RequestState | null, mechanicId: string, over: Partial<Parameters<typeof acceptVerdict>[0]> = {}) =>
  acceptVerdict({
    request: r,
    mechanicId,
    mechanic: approved(mechanicId),
    declinedByMechanic: false,
    now: NOW,
    minuteMs: MINUTE,
    ...over,
  });

describe('acceptVerdict', () => {
  it('lets the preferred mechanic win inside the window and keeps everyone else out', () => {
    expect(accept(request(), PREFERRED)).toEqual({ ok: true, repeat: false });
    expect(accept(request(), OTHER)).toMatchObject({ ok: false, code: 'priority_window_active' });
  });

  it('lets anyone win once the window is over, broadcast or not yet', () => {
    expect(accept(request({ priority_expires_at: NOW }), OTHER)).toEqual({ ok: true, repeat: false });
    expect(accept(request({ broadcast_at: NOW - 1 }), OTHER)).toEqual({ ok: true, repeat: false });
  });

  it('answers already_taken to a late accept and repeats the win to the winner', () => {
    const taken = request({ status: 'accepted', mechanic_id: PREFERRED });
    expect(accept(taken, OTHER)).toMatchObject({ ok: false, code: 'already_taken' });
    expect(accept(taken, PREFERRED)).toEqual({ ok: true, repeat: true });
  });

  it('refuses cancelled requests, unknown requests, unapproved mechanics and decliners', () => {
    expect(accept(request({ status: 'cancelled' }), PREFERRED)).toMatchObject({ code: 'not_pending' });
    expect(accept(null, PREFERRED)).toMatchObject({ code: 'not_found' });
    for (const mechanic of [
      null,
      { id: OTHER, status: 'pending' as const },
      { id: OTHER, status: 'suspended' as const },
    ]) {
      expect(accept(request({ broadcast_at: NOW }), OTHER, { mechanic })).toMatchObject({
        code: 'mechanic_not_approved',
      });
    }
    expect(accept(request({ broadcast_at: NOW }), OTHER, { declinedByMechanic: true })).toMatchObject({
      code: 'forbidden',
    });
  });

  it('asks to route first when nobody has been offered the request yet', () => {
    const unrouted = request({ priority_notified_at: null, priority_expires_at: null });
    expect(accept(unrouted, PREFERRED)).toEqual({ ok: 'route_first' });
  });

  it('never lets a mechanic other than the preferred one win before the deadline of an unbroadcast window', () => {
    fc.assert(
      fc.property(fc.integer({ min: -600_000, max: 600_000 }), (untilDeadline) => {
        const v = accept(request({ priority_expires_at: NOW + untilDeadline }), OTHER);
        return untilDeadline > 0 ? v.ok === false && v.code === 'priority_window_active' : v.ok === true;
      }),
    );
  });
});

describe('declineVerdict', () => {
  const decline = (r: RequestState | null, mechanicId: string, alreadyDeclined = false) =>
    declineVerdict({ request: r, mechanicId, mechanic: approved(mechanicId), alreadyDeclined });

  it('ends an open window when the preferred mechanic declines', () => {
    expect(decline(request(), PREFERRED)).toEqual({ ok: true, record: true, broadcast: true });
  });

  it('only records a decline by anyone else, or after the broadcast', () => {
    expect(decline(request(), OTHER)).toEqual({ ok: true, record: true, broadcast: false });
    expect(decline(request({ broadcast_at: NOW }), PREFERRED)).toEqual({ ok: true, record: true, broadcast: false });
  });

  it('records, without broadcasting, a decline that arrives before routing opened the window', () => {
    const unrouted = request({ priority_notified_at: null, priority_expires_at: null });
    expect(decline(unrouted, PREFERRED)).toEqual({ ok: true, record: true, broadcast: false });
  });

  it('is idempotent', () => {
    expect(decline(request(), PREFERRED, true)).toEqual({ ok: true, record: false, broadcast: false });
  });

  it('refuses what is no longer pending, unknown requests and unapproved mechanics', () => {
    expect(decline(request({ status: 'accepted', mechanic_id: OTHER }), PREFERRED)).toMatchObject({
      code: 'already_taken',
    });
    expect(decline(request({ status: 'accepted', mechanic_id: PREFERRED }), PREFERRED)).toMatchObject({
      code: 'not_pending',
    });
    expect(decline(request({ status: 'cancelled' }), PREFERRED)).toMatchObject({ code: 'not_pending' });
    expect(decline(null, PREFERRED)).toMatchObject({ code: 'not_found' });
    expect(
      declineVerdict({ request: request(), mechanicId: OTHER, mechanic: null, alreadyDeclined: false }),
    ).toMatchObject({
      code: 'mechanic_not_approved',
    });
  });
});

describe('cancelVerdict', () => {
  it("cancels the customer's own pending request, and again without change", () => {
    expect(cancelVerdict({ request: request(), customerId: CUSTOMER })).toEqual({ ok: true, change: true });
    expect(cancelVerdict({ request: request({ status: 'cancelled' }), customerId: CUSTOMER })).toEqual({
      ok: true,
      change: false,
    });
  });

  it('is too late after an accept', () => {
    expect(cancelVerdict({ request: request({ status: 'accepted' }), customerId: CUSTOMER })).toMatchObject({
      code: 'already_accepted',
    });
  });

  it("answers not_found for someone else's request, as for a missing one", () => {
    expect(cancelVerdict({ request: request(), customerId: OTHER })).toMatchObject({ code: 'not_found' });
    expect(cancelVerdict({ request: null, customerId: CUSTOMER })).toMatchObject({ code: 'not_found' });
  });
});

describe('offeredTo', () => {
  it('names who has seen the request so far', () => {
    expect(offeredTo(request({ broadcast_at: NOW }))).toBe('everyone');
    expect(offeredTo(request())).toEqual({ mechanicId: PREFERRED });
    expect(offeredTo(request({ priority_notified_at: null, priority_expires_at: null }))).toBe('nobody');
  });
});
