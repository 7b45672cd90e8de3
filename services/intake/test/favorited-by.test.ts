import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// The mechanic's dashboard (CONTRACT §7): who favorited me, newest first, each customer by first
// name only. A mechanic never learns a customer's full name or email here.

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake({ relay: false });
});
afterAll(async () => {
  await h?.close();
});

const favoritedBy = (token: string) =>
  h.intake.app.inject({ method: 'GET', url: '/v1/mechanics/me/favorited-by', headers: bearer(token) });
const favorite = (token: string, mechanicId: string) =>
  h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${mechanicId}`, headers: bearer(token) });

describe('favorited-by', () => {
  it('is empty for a mechanic nobody favorited', async () => {
    const m = await h.mechanic();
    const res = await favoritedBy(m.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([]);
  });

  it('lists the customers who favorited the mechanic, newest first, by first name and with their rank', async () => {
    const m = await h.mechanic();
    const other = await h.mechanic();
    const ada = await h.customer('Ada Lovelace');
    const grace = await h.customer('Grace\tBrewster Murray Hopper');
    const cher = await h.customer('Cher');
    const unrelated = await h.customer('Alan Turing');
    for (const c of [ada, grace, cher]) expect((await favorite(c.token, m.id)).statusCode).toBe(201);
    await favorite(unrelated.token, other.id);
    await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(grace.token),
      payload: { mechanic_ids: [m.id] },
    });
    // Distinct instants, so that "newest first" is one order.
    const at = {
      [ada.id]: '2026-11-01T08:00:00.000Z',
      [grace.id]: '2026-11-02T09:30:00.250Z',
      [cher.id]: '2026-11-03T10:00:00.001Z',
    };
    for (const [customerId, instant] of Object.entries(at)) {
      await h.db.query('update favorites set created_at = $3 where customer_id = $1 and mechanic_id = $2', [
        customerId,
        m.id,
        instant,
      ]);
    }

    const res = await favoritedBy(m.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { customer_id: cher.id, first_name: 'Cher', favorited_at: at[cher.id], rank: null },
      { customer_id: grace.id, first_name: 'Grace', favorited_at: at[grace.id], rank: 1 },
      { customer_id: ada.id, first_name: 'Ada', favorited_at: at[ada.id], rank: null },
    ]);
    // Privacy: nothing but the first name of each customer leaves intake.
    expect(res.body).not.toMatch(/Lovelace|Brewster|Hopper|Turing|@/);

    const unfavorited = await h.intake.app.inject({
      method: 'DELETE',
      url: `/v1/favorites/${m.id}`,
      headers: bearer(ada.token),
    });
    expect(unfavorited.statusCode).toBe(204);
    expect((await favoritedBy(m.token)).json().map((f: { first_name: string }) => f.first_name)).toEqual([
      'Cher',
      'Grace',
    ]);
    expect((await favoritedBy(other.token)).json()).toEqual([
      expect.objectContaining({ customer_id: unrelated.id, first_name: 'Alan' }),
    ]);
  });
});
