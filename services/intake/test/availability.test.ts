import { tableChecksums } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// A mechanic's availability (CONTRACT §6): stated through the API, defaults until then.

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake();
});
afterAll(async () => {
  await h?.close();
});

const get = (token: string) =>
  h.intake.app.inject({ method: 'GET', url: '/v1/mechanics/me/availability', headers: bearer(token) });
const put = (token: string, payload: unknown) =>
  h.intake.app.inject({
    method: 'PUT',
    url: '/v1/mechanics/me/availability',
    headers: bearer(token),
    payload: payload as object,
  });

describe('availability', () => {
  it('is available at any time in UTC until the mechanic says otherwise', async () => {
    const m = await h.mechanic();
    const res = await get(m.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ available: true, schedule: null, timezone: 'UTC' });
  });

  it('stores what the mechanic says, and a PUT replaces all of it', async () => {
    const m = await h.mechanic();
    const week = {
      available: true,
      schedule: [
        { day: 1, from: '08:00', to: '12:30' },
        { day: 5, from: '22:00', to: '24:00' },
        { day: 6, from: '00:00', to: '06:00' },
      ],
      timezone: 'Europe/Berlin',
    };
    const res = await put(m.token, week);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(week);
    expect((await get(m.token)).json()).toEqual(week);

    expect((await put(m.token, { available: false })).json()).toEqual({
      available: false,
      schedule: null,
      timezone: 'UTC',
    });
    expect((await get(m.token)).json()).toEqual({ available: false, schedule: null, timezone: 'UTC' });
  });

  it("is each mechanic's own", async () => {
    const a = await h.mechanic();
    const b = await h.mechanic();
    await put(a.token, { available: false, timezone: 'Asia/Tokyo' });
    expect((await get(b.token)).json()).toEqual({ available: true, schedule: null, timezone: 'UTC' });
  });

  it('is for mechanics only', async () => {
    const c = await h.customer();
    expect((await get(c.token)).statusCode).toBe(403);
    expect((await put(h.adminToken, { available: false })).statusCode).toBe(403);
  });
});

describe('bad availability', () => {
  const at = (interval: object) => ({ available: true, schedule: [interval] });
  const cases: [string, unknown, string][] = [
    ['no `available`', { schedule: null }, 'available'],
    ['`available` as text', { available: 'yes' }, 'available'],
    ['a day of 7', at({ day: 7, from: '08:00', to: '09:00' }), 'schedule.0.day'],
    ['25:00', at({ day: 1, from: '25:00', to: '26:00' }), 'schedule.0.from'],
    ['24:01', at({ day: 1, from: '08:00', to: '24:01' }), 'schedule.0.to'],
    ['a start of 24:00', at({ day: 1, from: '24:00', to: '24:00' }), 'schedule.0.from'],
    ['9:00 without its zero', at({ day: 1, from: '9:00', to: '10:00' }), 'schedule.0.from'],
    ['minutes of 60', at({ day: 1, from: '08:60', to: '10:00' }), 'schedule.0.from'],
    ['an end before the start', at({ day: 1, from: '18:00', to: '08:00' }), 'schedule.0.to'],
    ['an empty interval', at({ day: 1, from: '08:00', to: '08:00' }), 'schedule.0.to'],
    ['an unknown field in an interval', at({ day: 1, from: '08:00', to: '09:00', note: 'x' }), 'schedule.0'],
    ['a schedule that is not a list', { available: true, schedule: { day: 1 } }, 'schedule'],
    ['an unknown time zone', { available: true, timezone: 'Mars/Olympus' }, 'timezone'],
    ['an offset instead of a zone', { available: true, timezone: '+01:00' }, 'timezone'],
    ['an empty time zone', { available: true, timezone: '' }, 'timezone'],
    ['an unknown field', { available: true, holidays: [] }, ''],
  ];
  it.each(cases)('%s: 400 naming the field, nothing stored', async (_what, payload, field) => {
    const m = await h.mechanic();
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await put(m.token, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await sums()).toEqual(before);
    expect((await get(m.token)).json()).toEqual({ available: true, schedule: null, timezone: 'UTC' });
  });
});
