import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake();
});
afterAll(async () => {
  await h?.close();
});

describe('favorites', () => {
  it('adds (201), re-adds (200), lists newest first, reports status, removes (204)', async () => {
    const c = await h.customer();
    const a = await h.mechanic();
    const b = await h.mechanic('pending');
    const put = (id: string) =>
      h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${id}`, headers: bearer(c.token) });
    expect((await put(a.id)).statusCode).toBe(201);
    expect((await put(a.id)).statusCode).toBe(200);
    expect((await put(b.id)).statusCode).toBe(201);

    const list = await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: bearer(c.token) });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      {
        mechanic_id: b.id,
        first_name: 'Max',
        last_name: expect.any(String),
        status: 'pending',
        rank: null,
        created_at: expect.any(String),
      },
      {
        mechanic_id: a.id,
        first_name: 'Max',
        last_name: expect.any(String),
        status: 'approved',
        rank: null,
        created_at: expect.any(String),
      },
    ]);

    const status = (id: string) =>
      h.intake.app.inject({ method: 'GET', url: `/v1/favorites/status?mechanic_id=${id}`, headers: bearer(c.token) });
    expect((await status(a.id)).json()).toEqual({ isFavorite: true });

    const del = await h.intake.app.inject({ method: 'DELETE', url: `/v1/favorites/${a.id}`, headers: bearer(c.token) });
    expect(del.statusCode).toBe(204);
    expect((await status(a.id)).json()).toEqual({ isFavorite: false });
    const delAgain = await h.intake.app.inject({
      method: 'DELETE',
      url: `/v1/favorites/${a.id}`,
      headers: bearer(c.token),
    });
    expect(delAgain.statusCode).toBe(204);
  });

  it('answers 404 for an unknown mechanic and 400 for a malformed id', async () => {
    const c = await h.customer();
    const unknown = await h.intake.app.inject({
      method: 'PUT',
      url: `/v1/favorites/${randomUUID()}`,
      headers: bearer(c.token),
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/favorites/status?mechanic_id=x',
      headers: bearer(c.token),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toMatchObject({ in: 'querystring', field: 'mechanic_id' });
  });

  it("keeps each customer's favorites to themselves", async () => {
    const c1 = await h.customer();
    const c2 = await h.customer();
    const m = await h.mechanic();
    await h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${m.id}`, headers: bearer(c1.token) });
    const other = await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: bearer(c2.token) });
    expect(other.json()).toEqual([]);
  });
});

describe('ranked favorites (CONTRACT §6)', () => {
  async function customerWith(n: number) {
    const c = await h.customer();
    const ms = [];
    for (let i = 0; i < n; i++) {
      const m = await h.mechanic();
      await h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${m.id}`, headers: bearer(c.token) });
      ms.push(m.id);
    }
    return { c, ms };
  }
  const order = (token: string, payload: unknown) =>
    h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(token),
      payload: payload as object,
    });
  const ranks = async (token: string) =>
    (await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: bearer(token) }))
      .json()
      .map((f: { mechanic_id: string; rank: number | null }) => [f.mechanic_id, f.rank]);

  it('replaces the ranking, answers the list ranked first, and reorders in one go', async () => {
    const { c, ms } = await customerWith(4);
    const [a, b, d, e] = ms as [string, string, string, string];
    const res = await order(c.token, { mechanic_ids: [d, a] });
    expect(res.statusCode).toBe(200);
    expect(res.json().slice(0, 2)).toMatchObject([
      { mechanic_id: d, rank: 1 },
      { mechanic_id: a, rank: 2 },
    ]);
    expect(await ranks(c.token)).toEqual([
      [d, 1],
      [a, 2],
      [e, null],
      [b, null],
    ]);
    // Swapping 1 and 2, and adding a third, in one request.
    expect((await order(c.token, { mechanic_ids: [a, d, b] })).statusCode).toBe(200);
    expect(await ranks(c.token)).toEqual([
      [a, 1],
      [d, 2],
      [b, 3],
      [e, null],
    ]);
    // A shorter ranking unranks the rest.
    expect((await order(c.token, { mechanic_ids: [e] })).statusCode).toBe(200);
    expect((await ranks(c.token)).filter(([, r]: [string, number | null]) => r !== null)).toEqual([[e, 1]]);
  });

  it('removing a ranked favorite moves the ones after it up', async () => {
    const { c, ms } = await customerWith(3);
    const [a, b, d] = ms as [string, string, string];
    await order(c.token, { mechanic_ids: [a, b, d] });
    await h.intake.app.inject({ method: 'DELETE', url: `/v1/favorites/${b}`, headers: bearer(c.token) });
    expect(await ranks(c.token)).toEqual([
      [a, 1],
      [d, 2],
    ]);
  });

  it.each([
    ['no ids', { mechanic_ids: [] }, 'mechanic_ids'],
    ['four ids', { mechanic_ids: [randomUUID(), randomUUID(), randomUUID(), randomUUID()] }, 'mechanic_ids'],
    ['a repeated id', 'repeat', 'mechanic_ids'],
    ['a malformed id', { mechanic_ids: ['x'] }, 'mechanic_ids.0'],
    ['no body field', { ids: [randomUUID()] }, ''],
  ])('%s: 400 naming the field, the ranking unchanged', async (_what, payload, field) => {
    const { c, ms } = await customerWith(2);
    await order(c.token, { mechanic_ids: [ms[1]] });
    const before = await ranks(c.token);
    const body = payload === 'repeat' ? { mechanic_ids: [ms[0], ms[0]] } : payload;
    const res = await order(c.token, body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ranks(c.token)).toEqual(before);
  });

  it('an id that is not a favorite: 400 naming its position; an unknown mechanic: 404; nothing changed', async () => {
    const { c, ms } = await customerWith(2);
    await order(c.token, { mechanic_ids: [ms[1]] });
    const before = await ranks(c.token);
    const stranger = await h.mechanic();
    const notFavorite = await order(c.token, { mechanic_ids: [ms[0], stranger.id] });
    expect(notFavorite.statusCode).toBe(400);
    expect(notFavorite.json()).toMatchObject({ code: 'not_a_favorite', errors: [{ field: 'mechanic_ids.1' }] });
    const unknown = await order(c.token, { mechanic_ids: [randomUUID()] });
    expect(unknown.statusCode).toBe(404);
    expect(await ranks(c.token)).toEqual(before);
  });

  it("ranks another customer's favorites never", async () => {
    const one = await customerWith(1);
    const other = await h.customer();
    const res = await order(other.token, { mechanic_ids: one.ms });
    expect(res.statusCode).toBe(400);
    expect(await ranks(one.c.token)).toEqual([[one.ms[0], null]]);
  });
});
