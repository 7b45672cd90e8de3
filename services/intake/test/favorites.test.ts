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
        created_at: expect.any(String),
      },
      {
        mechanic_id: a.id,
        first_name: 'Max',
        last_name: expect.any(String),
        status: 'approved',
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
