import { RequestEventSchema } from '@dibs/contracts';
import { eventually, tableChecksums } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createdEventOf, type IntakeHarness, startIntake } from './harness.js';

// Windows as settings (CONTRACT §6): the admin API and plain SQL, read by each booking.

let h: IntakeHarness;
let customer: { id: string; token: string };
beforeAll(async () => {
  h = await startIntake();
  customer = await h.customer('Dana Driver');
});
afterAll(async () => {
  await h?.close();
});

const admin = () => bearer(h.adminToken);
const settings = (payload?: object) =>
  h.intake.app.inject({
    method: payload ? 'PATCH' : 'GET',
    url: '/v1/admin/settings/priority',
    headers: admin(),
    ...(payload ? { payload } : {}),
  });
const patchMechanic = (id: string, payload: object) =>
  h.intake.app.inject({ method: 'PATCH', url: `/v1/admin/mechanics/${id}`, headers: admin(), payload });

/** Books through `mechanicId` (or plainly) and returns the window the response, the row and the event carry. */
async function bookedWindow(mechanicId?: string): Promise<number> {
  const res = await h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: bearer(customer.token),
    payload: {
      session_type: 'video',
      plan_code: 'basic',
      ...(mechanicId ? { preferred_mechanic_id: mechanicId } : {}),
    },
  });
  expect(res.statusCode).toBe(201);
  const request = res.json();
  const { rows } = await h.db.query('select priority_window_minutes from session_requests where id = $1', [request.id]);
  const { event } = await createdEventOf(h, request.id);
  expect(rows[0]?.priority_window_minutes).toBe(request.priority_window_minutes);
  expect(event.request.priority_window_minutes).toBe(request.priority_window_minutes);
  return request.priority_window_minutes;
}

describe('priority settings', () => {
  it('start at PRIORITY_WINDOW_MINUTES, three tiers of 5, 3 and 2 minutes, favorites never skipped', async () => {
    const res = await settings();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      default_window_minutes: h.config.PRIORITY_WINDOW_MINUTES,
      tier_windows_minutes: [5, 3, 2],
      skip_offline_favorites: false,
      updated_at: expect.stringMatching(/Z$/),
    });
    expect(await bookedWindow()).toBe(h.config.PRIORITY_WINDOW_MINUTES);
  });

  it('a change through the API governs the next booking; a request keeps the window it got', async () => {
    const before = (await settings()).json();
    const res = await settings({ default_window_minutes: 4, tier_windows_minutes: [6, 1] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ default_window_minutes: 4, tier_windows_minutes: [6, 1] });
    expect(Date.parse(res.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));
    const mechanic = await h.mechanic();
    const first = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: bearer(customer.token),
      payload: { session_type: 'video', plan_code: 'basic', preferred_mechanic_id: mechanic.id },
    });
    expect(first.json().priority_window_minutes).toBe(4);

    await settings({ default_window_minutes: 8 });
    expect(await bookedWindow(mechanic.id)).toBe(8);
    const { rows } = await h.db.query('select priority_window_minutes from session_requests where id = $1', [
      first.json().id,
    ]);
    expect(rows).toEqual([{ priority_window_minutes: 4 }]);
  });

  it('a change by plain SQL governs the next booking too, and shows in the API', async () => {
    await h.db.query('update priority_settings set default_window_minutes = 7');
    expect(await bookedWindow()).toBe(7);
    expect((await settings()).json()).toMatchObject({ default_window_minutes: 7 });
    expect((await settings({ default_window_minutes: null })).json()).toMatchObject({
      default_window_minutes: h.config.PRIORITY_WINDOW_MINUTES,
    });
    expect(await bookedWindow()).toBe(h.config.PRIORITY_WINDOW_MINUTES);
  });

  it("a mechanic's own window governs bookings through that mechanic, and null gives the default back", async () => {
    const mechanic = await h.mechanic();
    const own = await patchMechanic(mechanic.id, { priority_window_minutes: 2 });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: mechanic.id, status: 'approved', priority_window_minutes: 2 });
    expect(await bookedWindow(mechanic.id)).toBe(2);
    expect(await bookedWindow()).toBe(h.config.PRIORITY_WINDOW_MINUTES);

    const back = await patchMechanic(mechanic.id, { priority_window_minutes: null });
    expect(back.json()).toMatchObject({ status: 'approved', priority_window_minutes: null });
    expect(await bookedWindow(mechanic.id)).toBe(h.config.PRIORITY_WINDOW_MINUTES);
  });
});

it('the outbox row carries the stored window too, as the relay would publish it', async () => {
  const quiet = await startIntake({ relay: false });
  try {
    const c = await quiet.customer();
    const m = await quiet.mechanic();
    await quiet.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${m.id}`,
      headers: bearer(quiet.adminToken),
      payload: { priority_window_minutes: 3 },
    });
    const res = await quiet.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: bearer(c.token),
      payload: { session_type: 'video', plan_code: 'basic', preferred_mechanic_id: m.id },
    });
    expect(res.json().priority_window_minutes).toBe(3);
    const { rows } = await quiet.db.query(`select payload from intake_outbox where payload->'request'->>'id' = $1`, [
      res.json().id,
    ]);
    expect(RequestEventSchema.parse(rows[0]?.payload).request).toEqual(res.json());
  } finally {
    await quiet.close();
  }
});

describe('bad settings', () => {
  // The bookings above are published and their outbox rows deleted in the background: wait for
  // that, so the table checksums below see only what a refused change might write.
  beforeAll(() => eventually(async () => (await h.db.query('select 1 from intake_outbox')).rowCount === 0));

  const cases: [string, object, string][] = [
    ['a window of 0', { default_window_minutes: 0 }, 'default_window_minutes'],
    ['a window of 121', { default_window_minutes: 121 }, 'default_window_minutes'],
    ['a fractional window', { default_window_minutes: 2.5 }, 'default_window_minutes'],
    ['a window as text', { default_window_minutes: '5' }, 'default_window_minutes'],
    ['no tiers', { tier_windows_minutes: [] }, 'tier_windows_minutes'],
    ['four tiers', { tier_windows_minutes: [1, 2, 3, 4] }, 'tier_windows_minutes'],
    ['a tier of 0', { tier_windows_minutes: [5, 0] }, 'tier_windows_minutes.1'],
    ['a tier of null', { tier_windows_minutes: [null] }, 'tier_windows_minutes.0'],
    ['skip as text', { skip_offline_favorites: 'yes' }, 'skip_offline_favorites'],
    ['an unknown setting', { window: 5 }, ''],
  ];
  it.each(cases)('%s: 400 naming the field, nothing changed', async (_what, payload, field) => {
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await settings(payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await sums()).toEqual(before);
  });

  it('an empty change: 400, nothing changed', async () => {
    const res = await settings({});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400 });
  });

  it.each([0, 121, '3', 1.5])("a mechanic's window of %j: 400 naming it, the mechanic unchanged", async (value) => {
    const mechanic = await h.mechanic();
    const res = await patchMechanic(mechanic.id, { priority_window_minutes: value });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('priority_window_minutes');
    const { rows } = await h.db.query('select priority_window_minutes, status from mechanics where id = $1', [
      mechanic.id,
    ]);
    expect(rows).toEqual([{ priority_window_minutes: null, status: 'approved' }]);
  });

  it('plain SQL cannot store what the API refuses', async () => {
    await expect(h.db.query('update priority_settings set default_window_minutes = 0')).rejects.toThrow(/check/);
    await expect(h.db.query("update priority_settings set tier_windows_minutes = '{1,2,3,4}'")).rejects.toThrow(
      /check/,
    );
    await expect(h.db.query('insert into priority_settings (id) values (false)')).rejects.toThrow(/check/);
  });
});
