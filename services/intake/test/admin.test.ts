import { randomUUID } from 'node:crypto';
import { tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

let h: IntakeHarness;
beforeAll(async () => {
  h = await startIntake();
});
afterAll(async () => {
  await h?.close();
});

const admin = () => bearer(h.adminToken);

describe('admin: mechanics', () => {
  it('creates a pending mechanic and returns it', async () => {
    const res = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/mechanics',
      headers: admin(),
      payload: { first_name: 'Ann', last_name: 'Lee', email: 'Ann.Lee@Example.com' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      first_name: 'Ann',
      last_name: 'Lee',
      email: 'ann.lee@example.com',
      status: 'pending',
      priority_window_minutes: null,
      created_at: expect.stringMatching(/Z$/),
    });
    const row = await h.db.query('select status from mechanics where id = $1', [body.id]);
    expect(row.rows).toEqual([{ status: 'pending' }]);
  });

  it('answers 409 problem+json for a duplicate email, whatever its case', async () => {
    const payload = { first_name: 'Bo', last_name: 'Dup', email: 'dup@example.com' };
    expect(
      (await h.intake.app.inject({ method: 'POST', url: '/v1/admin/mechanics', headers: admin(), payload })).statusCode,
    ).toBe(201);
    const res = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/mechanics',
      headers: admin(),
      payload: { ...payload, email: 'DUP@example.com' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 409, code: 'duplicate_email', title: 'Conflict' });
  });

  it('approves, suspends and deletes a mechanic; requests that preferred them keep their row', async () => {
    const m = await h.mechanic('pending');
    const approve = await h.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${m.id}`,
      headers: admin(),
      payload: { status: 'approved' },
    });
    expect(approve.statusCode).toBe(200);
    expect(approve.json().status).toBe('approved');

    const c = await h.customer();
    const booked = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: bearer(c.token),
      payload: { session_type: 'video', plan_code: 'basic', preferred_mechanic_id: m.id },
    });
    expect(booked.statusCode).toBe(201);

    const del = await h.intake.app.inject({ method: 'DELETE', url: `/v1/admin/mechanics/${m.id}`, headers: admin() });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    const again = await h.intake.app.inject({ method: 'DELETE', url: `/v1/admin/mechanics/${m.id}`, headers: admin() });
    expect(again.statusCode).toBe(404);
    const row = await h.db.query('select preferred_mechanic_id from session_requests where id = $1', [
      booked.json().id,
    ]);
    expect(row.rows).toEqual([{ preferred_mechanic_id: null }]);
  });

  it('rejects an unknown status with 400 naming the field', async () => {
    const m = await h.mechanic('pending');
    const res = await h.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${m.id}`,
      headers: admin(),
      payload: { status: 'boss' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ in: 'body', field: 'status' })]);
  });

  it('answers 404 for an unknown mechanic id', async () => {
    const res = await h.intake.app.inject({
      method: 'PATCH',
      url: `/v1/admin/mechanics/${randomUUID()}`,
      headers: admin(),
      payload: { status: 'approved' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });
});

describe('admin: customers', () => {
  it('creates a customer and refuses a duplicate email', async () => {
    const payload = { name: 'Cleo', email: 'cleo@example.com' };
    const res = await h.intake.app.inject({ method: 'POST', url: '/v1/admin/customers', headers: admin(), payload });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      name: 'Cleo',
      email: 'cleo@example.com',
      created_at: expect.any(String),
    });
    const dup = await h.intake.app.inject({ method: 'POST', url: '/v1/admin/customers', headers: admin(), payload });
    expect(dup.statusCode).toBe(409);
  });
});

describe('admin: feature flags', () => {
  it('lists ENABLE_FAVORITES_PRIORITY, off by default', async () => {
    const res = await h.intake.app.inject({ method: 'GET', url: '/v1/admin/feature-flags', headers: admin() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toContainEqual({
      flag_key: 'ENABLE_FAVORITES_PRIORITY',
      flag_name: 'Favorites Priority Broadcast',
      description: expect.any(String),
      is_enabled: false,
      enabled_for_roles: ['admin', 'customer'],
      rollout_percentage: 100,
      updated_at: expect.any(String),
    });
  });

  it('patches a flag, bumps updated_at, and stores the change in the table', async () => {
    const before = (
      await h.intake.app.inject({ method: 'GET', url: '/v1/admin/feature-flags', headers: admin() })
    ).json()[0];
    const res = await h.intake.app.inject({
      method: 'PATCH',
      url: '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY',
      headers: admin(),
      payload: { is_enabled: true, rollout_percentage: 40 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ is_enabled: true, rollout_percentage: 40 });
    expect(Date.parse(res.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));
    const row = await h.db.query(
      `select is_enabled, rollout_percentage from feature_flags where flag_key = 'ENABLE_FAVORITES_PRIORITY'`,
    );
    expect(row.rows).toEqual([{ is_enabled: true, rollout_percentage: 40 }]);
  });

  it('rejects an empty patch, an out-of-range rollout, unknown fields and unknown flags', async () => {
    const url = '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY';
    expect((await h.intake.app.inject({ method: 'PATCH', url, headers: admin(), payload: {} })).statusCode).toBe(400);
    const range = await h.intake.app.inject({
      method: 'PATCH',
      url,
      headers: admin(),
      payload: { rollout_percentage: 101 },
    });
    expect(range.statusCode).toBe(400);
    expect(range.json().errors[0]).toMatchObject({ field: 'rollout_percentage' });
    const unknown = await h.intake.app.inject({
      method: 'PATCH',
      url,
      headers: admin(),
      payload: { is_enabled: true, colour: 'red' },
    });
    expect(unknown.statusCode).toBe(400);
    const missing = await h.intake.app.inject({
      method: 'PATCH',
      url: '/v1/admin/feature-flags/NOPE',
      headers: admin(),
      payload: { is_enabled: true },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('refuses non-admin tokens', async () => {
    const res = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/admin/feature-flags',
      headers: bearer(await tokenFor('customer', randomUUID())),
    });
    expect(res.statusCode).toBe(403);
  });
});
