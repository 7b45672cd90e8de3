import { randomUUID } from 'node:crypto';
import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createdEventOf, type IntakeHarness, startIntake } from './harness.js';

let h: IntakeHarness;
let customer: { id: string; token: string };
let mechanic: { id: string; token: string };
beforeAll(async () => {
  h = await startIntake();
  customer = await h.customer('Dana Driver');
  mechanic = await h.mechanic();
});
afterAll(async () => {
  await h?.close();
});

const book = (payload: unknown, headers: Record<string, string> = {}, token = customer.token) =>
  h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: { ...bearer(token), ...headers },
    payload: payload as object,
  });

const createdEvent = (id: string) => createdEventOf(h, id);

describe('booking a session request', () => {
  it('stores the request with the customer profile and publishes request.created (Nats-Msg-Id = outbox id)', async () => {
    const res = await book({ session_type: 'video', plan_code: 'basic', preferred_mechanic_id: mechanic.id });
    expect(res.statusCode).toBe(201);
    const r = res.json();
    expect(r).toMatchObject({
      customer_id: customer.id,
      customer_name: 'Dana Driver',
      session_type: 'video',
      plan_code: 'basic',
      status: 'pending',
      routing_type: 'priority_broadcast',
      preferred_mechanic_id: mechanic.id,
      preferred_workshop_id: null,
      priority_window_minutes: 10,
      priority_notified_at: null,
      priority_expires_at: null,
      broadcast_at: null,
      fallback_reason: null,
      mechanic_id: null,
      accepted_at: null,
      cancelled_at: null,
    });
    expect(res.headers.location).toBe(`/v1/session-requests/${r.id}`);
    const row = await h.db.query(
      'select status, routing_type, preferred_mechanic_id from session_requests where id = $1',
      [r.id],
    );
    expect(row.rows).toEqual([
      { status: 'pending', routing_type: 'priority_broadcast', preferred_mechanic_id: mechanic.id },
    ]);

    const { event, msgId } = await createdEvent(r.id);
    expect(event.kind).toBe('created');
    expect(event.request).toEqual(r);
    expect(msgId).toBe(event.id);
    // Gone from the outbox shortly after the publish (the fast path deletes in batches).
    await eventually(
      async () => (await h.db.query('select 1 from intake_outbox where id = $1', [event.id])).rowCount === 0,
      5000,
      'the outbox row deleted once published',
    );
  });

  it('defaults to broadcast without a preferred mechanic', async () => {
    const res = await book({ session_type: 'chat', plan_code: 'pro' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ routing_type: 'broadcast', preferred_mechanic_id: null });
  });

  it('keeps what the customer asked when the preferred mechanic does not exist (routing reports priority_failed)', async () => {
    const res = await book({
      session_type: 'video',
      plan_code: 'basic',
      preferred_mechanic_id: randomUUID(),
      routing_type: 'priority_broadcast',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ routing_type: 'priority_broadcast', preferred_mechanic_id: null });
  });

  it('refuses priority_broadcast without a preferred mechanic, naming the field', async () => {
    const res = await book({ session_type: 'video', plan_code: 'basic', routing_type: 'priority_broadcast' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ in: 'body', field: 'preferred_mechanic_id', message: expect.any(String) }]);
  });

  it('stores the configured priority window and a workshop', async () => {
    const workshop = randomUUID();
    const res = await book({
      session_type: 'video',
      plan_code: 'basic',
      preferred_mechanic_id: mechanic.id,
      preferred_workshop_id: workshop,
    });
    expect(res.json()).toMatchObject({
      preferred_workshop_id: workshop,
      priority_window_minutes: h.config.PRIORITY_WINDOW_MINUTES,
    });
  });
});

describe('Idempotency-Key', () => {
  it('returns the first result (200) for a repeat and creates nothing', async () => {
    const key = `k-${randomUUID()}`;
    const body = { session_type: 'video', plan_code: 'basic' };
    const first = await book(body, { 'idempotency-key': key });
    const second = await book(body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    const rows = await h.db.query('select count(*)::int as n from session_requests where idempotency_key = $1', [key]);
    expect(rows.rows[0].n).toBe(1);
    const events = await h.db.query(
      `select count(*)::int as n from intake_outbox where payload->'request'->>'id' = $1`,
      [first.json().id],
    );
    expect(events.rows[0].n).toBe(1);
  });

  it('answers 422 for the same key with another body', async () => {
    const key = `k-${randomUUID()}`;
    await book({ session_type: 'video', plan_code: 'basic' }, { 'idempotency-key': key });
    const res = await book({ session_type: 'video', plan_code: 'premium' }, { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
  });

  it('creates exactly one request when the same key races', async () => {
    const key = `k-${randomUUID()}`;
    const body = { session_type: 'video', plan_code: 'race' };
    const results = await Promise.all(Array.from({ length: 10 }, () => book(body, { 'idempotency-key': key })));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(9);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
  });

  it('scopes keys per customer', async () => {
    const other = await h.customer('Other');
    const key = `k-${randomUUID()}`;
    const a = await book({ session_type: 'video', plan_code: 'basic' }, { 'idempotency-key': key });
    const b = await book({ session_type: 'video', plan_code: 'basic' }, { 'idempotency-key': key }, other.token);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().id).not.toBe(a.json().id);
  });

  it('refuses a key longer than 200 characters', async () => {
    const res = await book({ session_type: 'video', plan_code: 'basic' }, { 'idempotency-key': 'x'.repeat(201) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ in: 'headers', field: 'idempotency-key' });
  });
});

describe('reading requests', () => {
  it("returns the customer's own request and 404 for another customer's", async () => {
    const created = (await book({ session_type: 'video', plan_code: 'basic' })).json();
    const own = await h.intake.app.inject({
      method: 'GET',
      url: `/v1/session-requests/${created.id}`,
      headers: bearer(customer.token),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual(created);
    const other = await h.customer('Nosy');
    const res = await h.intake.app.inject({
      method: 'GET',
      url: `/v1/session-requests/${created.id}`,
      headers: bearer(other.token),
    });
    expect(res.statusCode).toBe(404);
  });

  it('pages through the list newest first with a cursor, filtered by status', async () => {
    const c = await h.customer('Pager');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await book({ session_type: 'video', plan_code: `p${i}` }, {}, c.token)).json().id);
    await h.db.query(`update session_requests set status = 'cancelled', cancelled_at = now() where id = $1`, [ids[3]]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/session-requests?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await h.intake.app.inject({ method: 'GET', url, headers: bearer(c.token) });
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((r: { id: string }) => r.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const pending = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/session-requests?status=pending&limit=100',
      headers: bearer(c.token),
    });
    expect(pending.json().items.map((r: { id: string }) => r.id)).toEqual(
      [...ids].reverse().filter((id) => id !== ids[3]),
    );
    expect(pending.json().next_cursor).toBeNull();
  });

  it('rejects a forged cursor, a bad status and an out-of-range limit with 400', async () => {
    for (const q of ['cursor=bm9wZQ', 'status=lost', 'limit=0', 'limit=101', 'colour=red']) {
      const res = await h.intake.app.inject({
        method: 'GET',
        url: `/v1/session-requests?${q}`,
        headers: bearer(customer.token),
      });
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
  });
});
