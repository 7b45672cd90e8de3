import { randomUUID } from 'node:crypto';
import { RequestEventSchema } from '@dibs/contracts';
import { tableChecksums } from '@dibs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, createdEventOf, type IntakeHarness, startIntake } from './harness.js';

// Booking with routing_type priority_sequence (CONTRACT §6 "Ranked favorites, offered in
// sequence"): the plan is decided by the booking statement from the ranks and settings in force.
// No relay: the outbox rows stay where the tests read them, and nothing writes in the background.

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake({ relay: false });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.db.query("update priority_settings set tier_windows_minutes = '{5,3,2}', default_window_minutes = null");
});

const admin = () => bearer(h.adminToken);
const sequence = { session_type: 'video', plan_code: 'basic', routing_type: 'priority_sequence' };

const book = (token: string, payload: object = sequence, headers: Record<string, string> = {}) =>
  h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: { ...bearer(token), ...headers },
    payload,
  });

/**
 * A customer whose favorites are mechanics with these own windows (null: none), ranked in this
 * order when `ranked` (else left unranked).
 */
async function customerWith(ownWindows: (number | null)[], ranked = true) {
  const c = await h.customer();
  const ms: string[] = [];
  for (const own of ownWindows) {
    const m = await h.mechanic();
    if (own !== null) {
      const res = await h.intake.app.inject({
        method: 'PATCH',
        url: `/v1/admin/mechanics/${m.id}`,
        headers: admin(),
        payload: { priority_window_minutes: own },
      });
      expect(res.statusCode).toBe(200);
    }
    await h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${m.id}`, headers: bearer(c.token) });
    ms.push(m.id);
  }
  if (ranked && ms.length > 0) {
    const res = await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(c.token),
      payload: { mechanic_ids: ms },
    });
    expect(res.statusCode).toBe(200);
  }
  return { c, ms };
}

/** The plan stored with request `id` (`session_requests.priority_tiers`). */
async function planOf(id: string) {
  const { rows } = await h.db.query('select priority_tiers from session_requests where id = $1', [id]);
  return rows[0]?.priority_tiers;
}

const tier = (mechanic_id: string, window_minutes: number) => ({ mechanic_id, window_minutes });

describe('booking a priority_sequence', () => {
  it('without a ranked favorite: 422 no_ranked_favorites, and nothing written (no request, outbox row or key)', async () => {
    const none = await h.customer();
    const unranked = await customerWith([null, 4], false);
    const sums = await tableChecksums(h.db);
    const before = await sums();
    for (const who of [none, unranked.c]) {
      const res = await book(who.token, sequence, { 'idempotency-key': 'first-try' });
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 422, code: 'no_ranked_favorites' });
    }
    expect(await sums()).toEqual(before);

    // The key was not used up: once ranked, the same key books.
    await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(unranked.c.token),
      payload: { mechanic_ids: [unranked.ms[1]] },
    });
    const res = await book(unranked.c.token, sequence, { 'idempotency-key': 'first-try' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ preferred_mechanic_id: unranked.ms[1], priority_window_minutes: 4 });
  });

  it('plans the ranked favorites in rank order: own window, else the tier setting, the last one repeating', async () => {
    await h.db.query("update priority_settings set tier_windows_minutes = '{4,2}'");
    const { c, ms } = await customerWith([null, 7, null]);
    const [a, b, d] = ms as [string, string, string];
    // A ranked favorite is planned whatever its status (routing skips one that is not approved).
    await h.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${d}`,
      headers: admin(),
      payload: { status: 'pending' },
    });
    // A preferred mechanic in the body is ignored: rank 1 becomes it.
    const res = await book(c.token, { ...sequence, preferred_mechanic_id: d });
    expect(res.statusCode).toBe(201);
    const r = res.json();
    expect(r).toMatchObject({
      customer_id: c.id,
      status: 'pending',
      routing_type: 'priority_sequence',
      preferred_mechanic_id: a,
      preferred_workshop_id: null,
      priority_window_minutes: 4,
      priority_notified_at: null,
      fallback_reason: null,
      offers: [],
      current_tier: null,
    });
    expect(r).not.toHaveProperty('priority_tiers');
    expect(await planOf(r.id)).toEqual([tier(a, 4), tier(b, 7), tier(d, 2)]);
  });

  it("tier 1's own window is the request's window", async () => {
    const { c, ms } = await customerWith([9, null]);
    const res = await book(c.token);
    expect(res.json()).toMatchObject({ preferred_mechanic_id: ms[0], priority_window_minutes: 9 });
    expect(await planOf(res.json().id)).toEqual([tier(ms[0] as string, 9), tier(ms[1] as string, 3)]);
  });

  it('reads back with offers [] and current_tier null, alone and in the list', async () => {
    const { c } = await customerWith([null]);
    const created = (await book(c.token)).json();
    const one = await h.intake.app.inject({
      method: 'GET',
      url: `/v1/session-requests/${created.id}`,
      headers: bearer(c.token),
    });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(created);
    expect(one.json()).toMatchObject({ offers: [], current_tier: null });
    const list = await h.intake.app.inject({ method: 'GET', url: '/v1/session-requests', headers: bearer(c.token) });
    expect(list.json().items).toEqual([created]);
  });

  it('a change of ranks or settings by plain SQL governs the next booking; a request keeps its plan', async () => {
    const { c, ms } = await customerWith([null, 7, null]);
    const [a, b, d] = ms as [string, string, string];
    const first = (await book(c.token)).json();
    expect(await planOf(first.id)).toEqual([tier(a, 5), tier(b, 7), tier(d, 2)]);

    // d first, a second, b unranked (one statement: ranks are checked at its end); one window for all.
    await h.db.query(
      `update favorites set rank = case mechanic_id when $2::uuid then 1 when $3::uuid then 2 end
       where customer_id = $1`,
      [c.id, d, a],
    );
    await h.db.query("update priority_settings set tier_windows_minutes = '{6}'");
    const second = (await book(c.token)).json();
    expect(second).toMatchObject({ preferred_mechanic_id: d, priority_window_minutes: 6 });
    expect(await planOf(second.id)).toEqual([tier(d, 6), tier(a, 6)]);

    // A mechanic's own window, set by SQL, governs the next plan too.
    await h.db.query('update mechanics set priority_window_minutes = 11 where id = $1', [a]);
    expect(await planOf((await book(c.token)).json().id)).toEqual([tier(d, 6), tier(a, 11)]);

    const { rows } = await h.db.query(
      'select preferred_mechanic_id, priority_window_minutes from session_requests where id = $1',
      [first.id],
    );
    expect(rows).toEqual([{ preferred_mechanic_id: a, priority_window_minutes: 5 }]);
    expect(await planOf(first.id)).toEqual([tier(a, 5), tier(b, 7), tier(d, 2)]);
  });

  it('numbers the tiers by position when a deleted mechanic left a gap in the ranks', async () => {
    const { c, ms } = await customerWith([null, null, null]);
    const [a, b, d] = ms as [string, string, string];
    // Deleting the mechanic deletes the favorite (FK cascade) without moving the later ranks up.
    const del = await h.intake.app.inject({ method: 'DELETE', url: `/v1/admin/mechanics/${a}`, headers: admin() });
    expect(del.statusCode).toBe(204);
    const res = await book(c.token);
    expect(res.json()).toMatchObject({ preferred_mechanic_id: b, priority_window_minutes: 5 });
    expect(await planOf(res.json().id)).toEqual([tier(b, 5), tier(d, 3)]);
  });

  it('the outbox row carries the request as stored: the rank-1 mechanic and the tier-1 window', async () => {
    await h.db.query("update priority_settings set tier_windows_minutes = '{8,1}'");
    const { c, ms } = await customerWith([null, null]);
    const res = await book(c.token);
    expect(res.json()).toMatchObject({ preferred_mechanic_id: ms[0], priority_window_minutes: 8 });
    const { rows } = await h.db.query(`select payload from intake_outbox where payload->'request'->>'id' = $1`, [
      res.json().id,
    ]);
    expect(rows).toHaveLength(1);
    const event = RequestEventSchema.parse(rows[0]?.payload);
    expect(event.kind).toBe('created');
    expect(event.request).toEqual(res.json());
  });

  it('with a workshop: 400 naming preferred_workshop_id, nothing written', async () => {
    const { c } = await customerWith([null]);
    const sums = await tableChecksums(h.db);
    const before = await sums();
    const res = await book(c.token, { ...sequence, preferred_workshop_id: randomUUID() });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ in: 'body', field: 'preferred_workshop_id', message: expect.any(String) }]);
    expect(await sums()).toEqual(before);
    // No workshop stated is no workshop.
    expect((await book(c.token, { ...sequence, preferred_workshop_id: null })).statusCode).toBe(201);
  });
});

describe('Idempotency-Key with a priority_sequence', () => {
  it('a repeat returns the first result (200) and creates nothing, whatever the ranks are now', async () => {
    const { c, ms } = await customerWith([null, null]);
    const key = `k-${randomUUID()}`;
    const first = await book(c.token, sequence, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(c.token),
      payload: { mechanic_ids: [ms[1]] },
    });
    const again = await book(c.token, sequence, { 'idempotency-key': key });
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());

    // Even with no ranked favorite left, a repeat is a repeat, not a 422.
    await h.db.query('update favorites set rank = null where customer_id = $1', [c.id]);
    const late = await book(c.token, sequence, { 'idempotency-key': key });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toEqual(first.json());

    const { rows } = await h.db.query(
      `select (select count(*)::int from session_requests where customer_id = $1) as requests,
              (select count(*)::int from intake_outbox where payload->'request'->>'customer_id' = $1::text) as events`,
      [c.id],
    );
    expect(rows).toEqual([{ requests: 1, events: 1 }]);
  });

  it('the same key with another body: 422 idempotency_key_reused', async () => {
    const { c } = await customerWith([null]);
    const key = `k-${randomUUID()}`;
    expect((await book(c.token, sequence, { 'idempotency-key': key })).statusCode).toBe(201);
    const res = await book(c.token, { ...sequence, plan_code: 'premium' }, { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
  });
});

it('the published created event carries the rank-1 mechanic and the tier-1 window (fast path)', async () => {
  const live = await startIntake();
  try {
    const c = await live.customer();
    const m = await live.mechanic();
    await live.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${m.id}`, headers: bearer(c.token) });
    await live.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(c.token),
      payload: { mechanic_ids: [m.id] },
    });
    const res = await live.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: bearer(c.token),
      payload: sequence,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ preferred_mechanic_id: m.id, priority_window_minutes: 5 });
    const { event } = await createdEventOf(live, res.json().id);
    expect(event.request).toEqual(res.json());
  } finally {
    await live.close();
  }
});
