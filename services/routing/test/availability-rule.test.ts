import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Availability,
  inSchedule,
  isAvailable,
  ONLINE_WITHIN_MS,
  type ScheduleInterval,
} from '../src/domain/rules/availability.js';

const at = (iso: string) => Date.parse(iso);
const weekdays = (from: string, to: string): ScheduleInterval[] => [1, 2, 3, 4, 5].map((day) => ({ day, from, to }));

describe('inSchedule', () => {
  it('reads the schedule on the wall clock of the mechanic’s zone', () => {
    const nine2five = weekdays('09:00', '17:00');
    // Monday 2027-01-04: 08:30 UTC is 09:30 in Berlin (UTC+1) and 03:30 in New York (UTC−5).
    expect(inSchedule(nine2five, 'Europe/Berlin', at('2027-01-04T08:30:00Z'))).toBe(true);
    expect(inSchedule(nine2five, 'America/New_York', at('2027-01-04T08:30:00Z'))).toBe(false);
    expect(inSchedule(nine2five, 'UTC', at('2027-01-04T08:30:00Z'))).toBe(false);
  });

  it('counts `from` in and `to` out, and 24:00 as the end of the day', () => {
    const late = [{ day: 1, from: '22:00', to: '24:00' }];
    expect(inSchedule(late, 'UTC', at('2027-01-04T21:59:59Z'))).toBe(false);
    expect(inSchedule(late, 'UTC', at('2027-01-04T22:00:00Z'))).toBe(true);
    expect(inSchedule(late, 'UTC', at('2027-01-04T23:59:59Z'))).toBe(true);
    expect(inSchedule(late, 'UTC', at('2027-01-05T00:00:00Z'))).toBe(false);
  });

  it('uses 0 for Sunday', () => {
    const sunday = [{ day: 0, from: '00:00', to: '24:00' }];
    expect(inSchedule(sunday, 'UTC', at('2027-01-03T12:00:00Z'))).toBe(true); // a Sunday
    expect(inSchedule(sunday, 'UTC', at('2027-01-04T12:00:00Z'))).toBe(false); // a Monday
  });

  it('follows daylight saving time: the same wall-clock hours across the change (Berlin, spring)', () => {
    const morning = [{ day: 0, from: '01:00', to: '04:00' }];
    // Sunday 2027-03-28: clocks jump from 02:00 CET to 03:00 CEST.
    expect(inSchedule(morning, 'Europe/Berlin', at('2027-03-28T00:30:00Z'))).toBe(true); // 01:30 CET
    expect(inSchedule(morning, 'Europe/Berlin', at('2027-03-28T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(inSchedule(morning, 'Europe/Berlin', at('2027-03-28T01:59:00Z'))).toBe(true); // 03:59 CEST
    expect(inSchedule(morning, 'Europe/Berlin', at('2027-03-28T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('follows daylight saving time: the repeated hour counts twice (New York, autumn)', () => {
    const night = [{ day: 0, from: '01:00', to: '02:00' }];
    // Sunday 2027-11-07: 01:00–02:00 happens twice (EDT, then EST).
    expect(inSchedule(night, 'America/New_York', at('2027-11-07T05:30:00Z'))).toBe(true); // 01:30 EDT
    expect(inSchedule(night, 'America/New_York', at('2027-11-07T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(inSchedule(night, 'America/New_York', at('2027-11-07T07:00:00Z'))).toBe(false); // 02:00 EST
  });

  it('no schedule: always; an empty schedule: never', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (now) => {
        expect(inSchedule(null, 'Asia/Kolkata', now)).toBe(true);
        expect(inSchedule([], 'Asia/Kolkata', now)).toBe(false);
      }),
    );
  });
});

describe('isAvailable', () => {
  const always: Availability = { available: true, schedule: null, timezone: 'UTC' };
  const now = at('2027-01-04T12:00:00Z');

  it('an explicit `available: false` wins over everything', () => {
    expect(isAvailable({ ...always, available: false }, { skipOffline: false, lastSeenAt: now }, now)).toBe(false);
    expect(isAvailable(always, { skipOffline: false, lastSeenAt: null }, now)).toBe(true);
  });

  it('outside the schedule: unavailable', () => {
    const evenings = { ...always, schedule: weekdays('18:00', '22:00') };
    expect(isAvailable(evenings, { skipOffline: false, lastSeenAt: now }, now)).toBe(false);
  });

  it('with skip_offline_favorites: only when connected within the last 60 s', () => {
    const online = (lastSeenAt: number | null) => isAvailable(always, { skipOffline: true, lastSeenAt }, now);
    expect(online(now - ONLINE_WITHIN_MS)).toBe(true);
    expect(online(now - ONLINE_WITHIN_MS - 1)).toBe(false);
    expect(online(null)).toBe(false);
  });
});
