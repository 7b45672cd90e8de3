import { describe, expect, it } from 'vitest';
import { bookingHash, planBooking } from '../src/domain/booking.js';
import { decodeCursor, encodeCursor } from '../src/domain/cursor.js';

describe('planBooking', () => {
  const mech = '6f1c2a52-3a4b-4c5d-8e9f-0a1b2c3d4e5f';
  it('implies priority_broadcast when a preferred mechanic is named', () => {
    expect(planBooking({ session_type: 'v', plan_code: 'p', preferred_mechanic_id: mech })).toEqual({
      ok: true,
      routingType: 'priority_broadcast',
      preferredMechanicId: mech,
      preferredWorkshopId: null,
    });
  });
  it('keeps an explicit broadcast even with a preferred mechanic', () => {
    expect(
      planBooking({ session_type: 'v', plan_code: 'p', preferred_mechanic_id: mech, routing_type: 'broadcast' }),
    ).toMatchObject({
      ok: true,
      routingType: 'broadcast',
    });
  });
  it('defaults to broadcast and refuses priority without a mechanic', () => {
    expect(planBooking({ session_type: 'v', plan_code: 'p' })).toMatchObject({ ok: true, routingType: 'broadcast' });
    expect(planBooking({ session_type: 'v', plan_code: 'p', routing_type: 'priority_broadcast' })).toMatchObject({
      ok: false,
      field: 'preferred_mechanic_id',
    });
  });
  it('plans a priority_sequence without a preferred mechanic, ignoring one given, and refuses a workshop', () => {
    const sequence = { session_type: 'v', plan_code: 'p', routing_type: 'priority_sequence' } as const;
    const planned = {
      ok: true,
      routingType: 'priority_sequence',
      preferredMechanicId: null,
      preferredWorkshopId: null,
    };
    expect(planBooking(sequence)).toEqual(planned);
    expect(planBooking({ ...sequence, preferred_mechanic_id: mech, preferred_workshop_id: null })).toEqual(planned);
    expect(planBooking({ ...sequence, preferred_workshop_id: mech })).toMatchObject({
      ok: false,
      field: 'preferred_workshop_id',
    });
  });
});

describe('bookingHash', () => {
  it('treats an omitted optional field like null and tells different bodies apart', () => {
    const a = bookingHash({ session_type: 'v', plan_code: 'p' });
    expect(bookingHash({ session_type: 'v', plan_code: 'p', preferred_mechanic_id: null })).toBe(a);
    expect(bookingHash({ session_type: 'v', plan_code: 'q' })).not.toBe(a);
  });
});

describe('cursor', () => {
  it('round-trips', () => {
    const c = { createdAt: '2026-11-23T10:00:00.123Z', id: '6f1c2a52-3a4b-4c5d-8e9f-0a1b2c3d4e5f' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });
  it.each([
    '',
    'bm9wZQ',
    Buffer.from('2026-11-23T10:00:00.123Z|not-a-uuid').toString('base64url'),
    Buffer.from('yesterday|6f1c2a52-3a4b-4c5d-8e9f-0a1b2c3d4e5f').toString('base64url'),
  ])('rejects %j', (text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});
