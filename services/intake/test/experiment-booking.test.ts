import { randomUUID } from 'node:crypto';
import { RequestEventSchema, type SessionRequest } from '@dibs/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { experimentArm } from '../src/domain/experiment-arm.js';
import { bearer, createdEventOf, type IntakeHarness, startIntake } from './harness.js';

// Booking while an experiment runs (CONTRACT §7): a single-priority request whose mechanic has no
// window of its own is enrolled by the booking statement in the arm the hash picks, with that
// arm's window, in the response, the row and the outbox row alike, and keeps both forever.
// No relay: the outbox rows stay where the tests read them.

let h: IntakeHarness;
let mechanic: { id: string };
beforeAll(async () => {
  h = await startIntake({ relay: false });
  mechanic = await h.mechanic();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.db.query('update experiments set active = false where active');
  await h.db.query('update priority_settings set default_window_minutes = null');
});

const admin = () => bearer(h.adminToken);
// Windows unlike PRIORITY_WINDOW_MINUTES (10) and each other: a window tells the arm.
const arms = [
  { name: 'short', window_minutes: 3, weight: 1 },
  { name: 'medium', window_minutes: 6, weight: 2 },
  { name: 'long', window_minutes: 15, weight: 1 },
];
let n = 0;

/** Creates an experiment with `arms` through the API and starts it. */
async function startExperiment(withArms = arms): Promise<string> {
  const key = `booking-${Date.now().toString(36)}-${n++}`;
  const res = await h.intake.app.inject({
    method: 'POST',
    url: '/v1/admin/experiments',
    headers: admin(),
    payload: { key, arms: withArms, active: true },
  });
  expect(res.statusCode, res.body).toBe(201);
  return key;
}
const setActive = async (key: string, active: boolean) => {
  const res = await h.intake.app.inject({
    method: 'PATCH',
    url: `/v1/admin/experiments/${key}`,
    headers: admin(),
    payload: { active },
  });
  expect(res.statusCode, res.body).toBe(200);
};

const book = async (token: string, payload: object, headers: Record<string, string> = {}) => {
  const res = await h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: { ...bearer(token), ...headers },
    payload: { session_type: 'video', plan_code: 'basic', ...payload },
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as SessionRequest;
};

/** The request as the GET, the row and the outbox row show it: all must equal `booked`. */
async function expectStoredAs(booked: SessionRequest, token: string): Promise<void> {
  const read = await h.intake.app.inject({
    method: 'GET',
    url: `/v1/session-requests/${booked.id}`,
    headers: bearer(token),
  });
  expect(read.json()).toEqual(booked);
  const { rows } = await h.db.query(
    'select experiment_key, experiment_arm, priority_window_minutes from session_requests where id = $1',
    [booked.id],
  );
  expect(rows).toEqual([
    {
      experiment_key: booked.experiment?.key ?? null,
      experiment_arm: booked.experiment?.arm ?? null,
      priority_window_minutes: booked.priority_window_minutes,
    },
  ]);
  const outbox = await h.db.query(`select payload from intake_outbox where payload->'request'->>'id' = $1`, [
    booked.id,
  ]);
  expect(RequestEventSchema.parse(outbox.rows[0]?.payload).request).toEqual(booked);
}

describe('booking while an experiment runs', () => {
  it('enrols a single-priority request in the arm the hash picks, with its window, everywhere alike', async () => {
    const key = await startExperiment();
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const c = await h.customer(`Customer ${i}`);
      const arm = experimentArm(c.id, key, arms);
      const booked = await book(c.token, { preferred_mechanic_id: mechanic.id });
      expect(booked).toMatchObject({
        routing_type: 'priority_broadcast',
        experiment: { key, arm: arm.name },
        priority_window_minutes: arm.window_minutes,
      });
      await expectStoredAs(booked, c.token);
      seen.add(arm.name);
    }
    // Twelve customers over shares of 1/4, 1/2, 1/4 reach more than one arm (all in one: p < 0.001).
    expect(seen.size).toBeGreaterThan(1);
  });

  it('puts the same customer in the same arm at every booking, and a replay answers as the first', async () => {
    const key = await startExperiment();
    const c = await h.customer('Repeat Customer');
    const first = await book(c.token, { preferred_mechanic_id: mechanic.id }, { 'idempotency-key': 'once' });
    const arm = experimentArm(c.id, key, arms).name;
    expect(first.experiment).toEqual({ key, arm });
    for (let i = 0; i < 3; i++) {
      expect((await book(c.token, { preferred_mechanic_id: mechanic.id })).experiment).toEqual({ key, arm });
    }
    expect(await book(c.token, { preferred_mechanic_id: mechanic.id }, { 'idempotency-key': 'once' })).toEqual(first);
  });

  it('does not enrol a request to a mechanic with a window of its own, nor any other kind of request', async () => {
    await startExperiment();
    const own = await h.mechanic();
    await h.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${own.id}`,
      headers: admin(),
      payload: { priority_window_minutes: 7 },
    });
    const ranked = await h.mechanic();
    const c = await h.customer('Not Enrolled');
    await h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${ranked.id}`, headers: bearer(c.token) });
    await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(c.token),
      payload: { mechanic_ids: [ranked.id] },
    });
    const cases: [string, object, number][] = [
      ["the mechanic's own window", { preferred_mechanic_id: own.id }, 7],
      ['a broadcast', {}, h.config.PRIORITY_WINDOW_MINUTES],
      ['a broadcast naming a mechanic', { preferred_mechanic_id: mechanic.id, routing_type: 'broadcast' }, 10],
      ['a workshop booking', { preferred_mechanic_id: mechanic.id, preferred_workshop_id: randomUUID() }, 10],
      ['an unknown mechanic', { preferred_mechanic_id: randomUUID() }, h.config.PRIORITY_WINDOW_MINUTES],
      ['a sequence', { routing_type: 'priority_sequence' }, 5],
    ];
    for (const [what, payload, window] of cases) {
      const booked = await book(c.token, payload);
      expect(booked, what).toMatchObject({ experiment: null, priority_window_minutes: window });
      await expectStoredAs(booked, c.token);
    }
  });

  it('enrols nobody once the experiment stops; what was enrolled keeps its arm and window', async () => {
    const key = await startExperiment();
    const c = await h.customer('Before And After');
    const enrolled = await book(c.token, { preferred_mechanic_id: mechanic.id });
    expect(enrolled.experiment).toEqual({ key, arm: experimentArm(c.id, key, arms).name });

    await setActive(key, false);
    const after = await book(c.token, { preferred_mechanic_id: mechanic.id });
    expect(after).toMatchObject({ experiment: null, priority_window_minutes: h.config.PRIORITY_WINDOW_MINUTES });
    await expectStoredAs(after, c.token);

    // Neither another experiment, nor the settings, nor the mechanic's own window change it.
    await startExperiment(arms.map((a) => ({ ...a, window_minutes: a.window_minutes + 1 })));
    await h.db.query('update priority_settings set default_window_minutes = 4');
    await h.db.query('update mechanics set priority_window_minutes = 9 where id = $1', [mechanic.id]);
    try {
      await expectStoredAs(enrolled, c.token);
    } finally {
      await h.db.query('update mechanics set priority_window_minutes = null where id = $1', [mechanic.id]);
    }
  });

  it('follows an experiment started or stopped by plain SQL at the next booking (nothing cached)', async () => {
    const key = await startExperiment();
    await setActive(key, false);
    const c = await h.customer('Plain Sql');
    await h.db.query('update experiments set active = true where key = $1', [key]);
    const arm = experimentArm(c.id, key, arms);
    expect(await book(c.token, { preferred_mechanic_id: mechanic.id })).toMatchObject({
      experiment: { key, arm: arm.name },
      priority_window_minutes: arm.window_minutes,
    });
    await h.db.query('update experiments set active = false where key = $1', [key]);
    expect((await book(c.token, { preferred_mechanic_id: mechanic.id })).experiment).toBeNull();
  });

  it("leaves the default window setting to requests that are not enrolled, and an arm's window wins over it", async () => {
    await h.db.query('update priority_settings set default_window_minutes = 4');
    const key = await startExperiment();
    const c = await h.customer('Settings Too');
    const arm = experimentArm(c.id, key, arms);
    expect(await book(c.token, { preferred_mechanic_id: mechanic.id })).toMatchObject({
      experiment: { key, arm: arm.name },
      priority_window_minutes: arm.window_minutes,
    });
    expect(await book(c.token, {})).toMatchObject({ experiment: null, priority_window_minutes: 4 });
  });
});

it('publishes the created event with the arm and its window, as the response shows them', async () => {
  const live = await startIntake();
  try {
    const m = await live.mechanic();
    const key = 'published-arm';
    const res = await live.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/experiments',
      headers: bearer(live.adminToken),
      payload: { key, arms, active: true },
    });
    expect(res.statusCode).toBe(201);
    const c = await live.customer();
    const booked = await live.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: bearer(c.token),
      payload: { session_type: 'video', plan_code: 'basic', preferred_mechanic_id: m.id },
    });
    const arm = experimentArm(c.id, key, arms);
    expect(booked.json()).toMatchObject({
      experiment: { key, arm: arm.name },
      priority_window_minutes: arm.window_minutes,
    });
    const { event } = await createdEventOf(live, booked.json().id);
    expect(event.request).toEqual(booked.json());
  } finally {
    await live.close();
  }
});
