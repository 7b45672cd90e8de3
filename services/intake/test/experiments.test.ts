import { tableChecksums } from '@dibs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// Experiments on the window length, the admin API (CONTRACT §7): created inactive unless told,
// at most one active (409, decided by the database's unique index), bad input a 400 naming the
// field with nothing written. Booking under an experiment: experiment-booking.test.ts.

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake({ relay: false });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.db.query('update experiments set active = false where active');
});

const admin = () => bearer(h.adminToken);
let n = 0;
const freshKey = () => `exp-${Date.now().toString(36)}-${n++}`;
const twoArms = [
  { name: 'short', window_minutes: 3, weight: 1 },
  { name: 'long', window_minutes: 12, weight: 2.5 },
];
const create = (payload: object) =>
  h.intake.app.inject({ method: 'POST', url: '/v1/admin/experiments', headers: admin(), payload });
const patch = (key: string, payload: object) =>
  h.intake.app.inject({ method: 'PATCH', url: `/v1/admin/experiments/${key}`, headers: admin(), payload });
const get = (key: string) =>
  h.intake.app.inject({ method: 'GET', url: `/v1/admin/experiments/${key}`, headers: admin() });

describe('the experiments API', () => {
  it('creates an experiment inactive, and shows it alone and in the list', async () => {
    const key = freshKey();
    const res = await create({ key, arms: twoArms });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`/v1/admin/experiments/${key}`);
    const created = res.json();
    expect(created).toEqual({
      key,
      arms: twoArms,
      active: false,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    expect((await get(key)).json()).toEqual(created);
    const list = await h.intake.app.inject({ method: 'GET', url: '/v1/admin/experiments', headers: admin() });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toContainEqual(created);
    // The arms are stored in the order given: the assignment depends on it.
    const { rows } = await h.db.query('select arms, active from experiments where key = $1', [key]);
    expect(rows).toEqual([{ arms: twoArms, active: false }]);
  });

  it('creates it active when the body says so, and starts and stops it by PATCH', async () => {
    const key = freshKey();
    const res = await create({ key, arms: twoArms, active: true });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ key, active: true });
    const again = await patch(key, { active: true });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ key, active: true });
    const stopped = await patch(key, { active: false });
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json()).toMatchObject({ key, arms: twoArms, active: false });
    expect(Date.parse(stopped.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(res.json().updated_at));
    expect((await get(key)).json()).toMatchObject({ active: false });
  });

  it('refuses a duplicate key with 409 experiment_exists, changing nothing', async () => {
    const key = freshKey();
    expect((await create({ key, arms: twoArms })).statusCode).toBe(201);
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await create({ key, arms: [...twoArms].reverse(), active: true });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 409, code: 'experiment_exists' });
    expect(await sums()).toEqual(before);
  });

  it('refuses a second active experiment, created or activated, with 409 experiment_active', async () => {
    const running = freshKey();
    const waiting = freshKey();
    expect((await create({ key: running, arms: twoArms, active: true })).statusCode).toBe(201);
    expect((await create({ key: waiting, arms: twoArms })).statusCode).toBe(201);
    const sums = await tableChecksums(h.db);
    const before = await sums();

    const second = freshKey();
    const created = await create({ key: second, arms: twoArms, active: true });
    expect(created.statusCode).toBe(409);
    expect(created.json()).toMatchObject({ status: 409, code: 'experiment_active' });
    const activated = await patch(waiting, { active: true });
    expect(activated.statusCode).toBe(409);
    expect(activated.json()).toMatchObject({ status: 409, code: 'experiment_active' });
    expect(await sums()).toEqual(before);
    expect((await get(second)).statusCode).toBe(404);

    // Once the running one stops, the other may start.
    expect((await patch(running, { active: false })).statusCode).toBe(200);
    expect((await patch(waiting, { active: true })).json()).toMatchObject({ key: waiting, active: true });
  });

  it('lets exactly one of many racing activations win; the others get 409', async () => {
    const keys = Array.from({ length: 6 }, freshKey);
    for (const key of keys) expect((await create({ key, arms: twoArms })).statusCode).toBe(201);
    const answers = await Promise.all(keys.map((key) => patch(key, { active: true })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(a.json().code).toBe('experiment_active');
    const { rows } = await h.db.query('select key from experiments where active');
    expect(rows).toEqual([{ key: keys[answers.findIndex((a) => a.statusCode === 200)] }]);
  });

  it('answers 404 for an experiment that does not exist', async () => {
    for (const res of [await get('no-such-experiment'), await patch('no-such-experiment', { active: true })]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ status: 404, code: 'not_found' });
    }
    const { rowCount } = await h.db.query('select 1 from experiments where active');
    expect(rowCount).toBe(0);
  });

  it('plain SQL cannot make two active either, nor store what the API refuses', async () => {
    const [a, b] = [freshKey(), freshKey()];
    await h.db.query(`insert into experiments (key, arms, active) values ($1, $2, true)`, [a, JSON.stringify(twoArms)]);
    await expect(
      h.db.query(`insert into experiments (key, arms, active) values ($1, $2, true)`, [b, JSON.stringify(twoArms)]),
    ).rejects.toThrow(/experiments_one_active/);
    const bad: unknown[] = [
      [twoArms[0]],
      [...twoArms, ...twoArms.map((arm) => ({ ...arm, name: `${arm.name}2` })), { ...twoArms[0], name: 'fifth' }],
      [twoArms[0], { ...twoArms[1], name: 'short' }],
      [twoArms[0], { ...twoArms[1], window_minutes: 0 }],
      [twoArms[0], { ...twoArms[1], window_minutes: 121 }],
      [twoArms[0], { ...twoArms[1], window_minutes: 2.5 }],
      [twoArms[0], { ...twoArms[1], weight: 0 }],
      [twoArms[0], { ...twoArms[1], weight: '1' }],
      [twoArms[0], { ...twoArms[1], name: ' padded' }],
      [twoArms[0], { ...twoArms[1], colour: 'red' }],
      [twoArms[0], { name: 'no-weight', window_minutes: 5 }],
      { arms: twoArms },
      [twoArms[0], 'long'],
    ];
    for (const arms of bad) {
      await expect(
        h.db.query('insert into experiments (key, arms) values ($1, $2)', [freshKey(), JSON.stringify(arms)]),
        JSON.stringify(arms),
      ).rejects.toThrow(/experiments_arms_check/);
    }
    for (const key of ['Upper', '-dash', 'a'.repeat(65), 'sp ace']) {
      await expect(
        h.db.query('insert into experiments (key, arms) values ($1, $2)', [key, JSON.stringify(twoArms)]),
      ).rejects.toThrow(/check/);
    }
  });
});

describe('bad experiments', () => {
  const arm = (over: object) => [twoArms[0], { ...twoArms[1], ...over }];
  const cases: [string, object, string][] = [
    ['no key', { arms: twoArms }, 'key'],
    ['an upper-case key', { key: 'Window', arms: twoArms }, 'key'],
    ['a key of 65 characters', { key: 'k'.repeat(65), arms: twoArms }, 'key'],
    ['a key starting with a dash', { key: '-window', arms: twoArms }, 'key'],
    ['one arm', { key: 'k', arms: [twoArms[0]] }, 'arms'],
    ['five arms', { key: 'k', arms: [1, 2, 3, 4, 5].map((i) => ({ ...twoArms[0], name: `a${i}` })) }, 'arms'],
    ['two arms of one name', { key: 'k', arms: arm({ name: 'short' }) }, 'arms.1.name'],
    ['an empty arm name', { key: 'k', arms: arm({ name: '  ' }) }, 'arms.1.name'],
    ['a window of 0', { key: 'k', arms: arm({ window_minutes: 0 }) }, 'arms.1.window_minutes'],
    ['a window of 121', { key: 'k', arms: arm({ window_minutes: 121 }) }, 'arms.1.window_minutes'],
    ['a fractional window', { key: 'k', arms: arm({ window_minutes: 1.5 }) }, 'arms.1.window_minutes'],
    ['a weight of 0', { key: 'k', arms: arm({ weight: 0 }) }, 'arms.1.weight'],
    ['a negative weight', { key: 'k', arms: arm({ weight: -1 }) }, 'arms.1.weight'],
    ['a weight as text', { key: 'k', arms: arm({ weight: '2' }) }, 'arms.1.weight'],
    ['no weight', { key: 'k', arms: [twoArms[0], { name: 'long', window_minutes: 12 }] }, 'arms.1.weight'],
    ['active as text', { key: 'k', arms: twoArms, active: 'yes' }, 'active'],
    ['arms as an object', { key: 'k', arms: { short: 3 } }, 'arms'],
    ['an unknown field', { key: 'k', arms: twoArms, window: 5 }, ''],
    ['an unknown field in an arm', { key: 'k', arms: arm({ colour: 'red' }) }, 'arms.1'],
  ];
  it.each(cases)('%s: 400 naming the field, nothing written', async (_what, payload, field) => {
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await create(payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await sums()).toEqual(before);
  });

  it.each([
    ['no active', {}, 'active'],
    ['active as text', { active: 'true' }, 'active'],
    ['an unknown field', { active: true, arms: twoArms }, ''],
  ])('a PATCH with %s: 400 naming it, nothing changed', async (_what, payload, field) => {
    const key = freshKey();
    expect((await create({ key, arms: twoArms })).statusCode).toBe(201);
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await patch(key, payload);
    expect(res.statusCode, res.body).toBe(400);
    if (field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await sums()).toEqual(before);
  });

  it('a key that cannot be one in the path: 400 naming it', async () => {
    for (const res of [await get('Not%20A%20Key'), await patch('UPPER', { active: true })]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toContainEqual(expect.objectContaining({ in: 'params', field: 'key' }));
    }
  });
});
