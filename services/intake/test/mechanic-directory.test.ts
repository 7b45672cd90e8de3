import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// The directory customers pick favorites from (CONTRACT §8): approved mechanics only, by name,
// searchable, in keyset pages; a name and an id, never an email or a status.

let h: IntakeHarness;
let customer: { id: string; token: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startIntake({ relay: false });
  customer = await h.customer('Casey Jones');
  // A database of its own: these are every mechanic there is.
  for (const [first, last, status] of [
    ['Ada', 'Lovelace', 'approved'],
    ['ben', 'franklin', 'approved'],
    ['Cy', 'Young', 'approved'],
    ['Dee', 'Lovelace', 'approved'],
    ['Eve', 'Pending', 'pending'],
    ['Sue', 'Spended', 'suspended'],
    ['Per_cent', '100%', 'approved'],
  ] as const) {
    const res = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/mechanics',
      headers: bearer(h.adminToken),
      payload: { first_name: first, last_name: last, email: `${first.toLowerCase()}@directory.example` },
    });
    ids[first] = res.json().id;
    if (status !== 'pending') {
      await h.intake.app.inject({
        method: 'PATCH',
        url: `/v1/admin/mechanics/${ids[first]}`,
        headers: bearer(h.adminToken),
        payload: { status },
      });
    }
  }
});
afterAll(async () => {
  await h?.close();
});

const list = (token: string, query = '') =>
  h.intake.app.inject({ method: 'GET', url: `/v1/mechanics${query}`, headers: bearer(token) });
const names = (body: { items: { first_name: string; last_name: string }[] }) =>
  body.items.map((m) => `${m.first_name} ${m.last_name}`);

describe('GET /v1/mechanics', () => {
  it('lists approved mechanics only, by last then first name regardless of case, with their id and name', async () => {
    const res = await list(customer.token);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(names(body)).toEqual(['Per_cent 100%', 'ben franklin', 'Ada Lovelace', 'Dee Lovelace', 'Cy Young']);
    expect(body.items[2]).toEqual({ id: ids.Ada, first_name: 'Ada', last_name: 'Lovelace' });
    expect(body.next_cursor).toBeNull();
  });

  it('pages with next_cursor, each mechanic once, even when one is approved between two pages', async () => {
    const first = await list(customer.token, '?limit=2');
    expect(names(first.json())).toEqual(['Per_cent 100%', 'ben franklin']);
    const cursor = first.json().next_cursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await list(customer.token, `?limit=2&cursor=${cursor}`);
    expect(names(second.json())).toEqual(['Ada Lovelace', 'Dee Lovelace']);
    const third = await list(customer.token, `?limit=2&cursor=${second.json().next_cursor}`);
    expect(third.json()).toEqual({ items: [{ id: ids.Cy, first_name: 'Cy', last_name: 'Young' }], next_cursor: null });
  });

  it('finds mechanics by any part of "first last", case-insensitively, with % and _ taken literally', async () => {
    expect(names((await list(customer.token, '?query=LOVE')).json())).toEqual(['Ada Lovelace', 'Dee Lovelace']);
    expect(names((await list(customer.token, '?query=ada%20love')).json())).toEqual(['Ada Lovelace']);
    expect(names((await list(customer.token, '?query=%25')).json())).toEqual(['Per_cent 100%']);
    expect(names((await list(customer.token, '?query=_')).json())).toEqual(['Per_cent 100%']);
    expect(names((await list(customer.token, '?query=pending')).json())).toEqual([]);
    expect(names((await list(customer.token, '?query=%20%20')).json())).toHaveLength(5);
  });

  it('is for customers and admins: a mechanic gets 403, no token 401', async () => {
    expect((await list(h.adminToken, '?query=young')).json().items).toEqual([
      { id: ids.Cy, first_name: 'Cy', last_name: 'Young' },
    ]);
    const mechanic = await h.mechanic();
    expect((await list(mechanic.token)).statusCode).toBe(403);
    const anonymous = await h.intake.app.inject({ method: 'GET', url: '/v1/mechanics' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refuses a cursor it did not issue, a bad limit and unknown parameters with 400 naming the field', async () => {
    for (const [query, field] of [
      ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      [`?cursor=${Buffer.from(JSON.stringify(['a', 'b', 'not-a-uuid'])).toString('base64url')}`, 'cursor'],
      [`?cursor=${Buffer.from(JSON.stringify(['a\u0000', 'b', ids.Ada])).toString('base64url')}`, 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?status=pending', 'status'],
    ] as const) {
      const res = await list(customer.token, query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.json().errors ?? res.json().detail), query).toContain(field);
    }
  });
});
