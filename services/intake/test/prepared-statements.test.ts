import { sqlOf } from '@dibs/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// The booking path runs named statements through the ORM's pool, so each connection parses and
// plans them once (docs/decisions/011-capacity.md §4: parse/plan was ~30% of PostgreSQL's CPU per
// booking). One connection: what intake prepared is what this test's query sees.
describe('prepared statements of the booking path', () => {
  let h: IntakeHarness;
  beforeAll(async () => {
    h = await startIntake({ relay: false, env: { INTAKE_DB_POOL: '1' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('prepares each hot statement once on the connection and runs it by name afterwards', async () => {
    const customer = await h.customer();
    const mechanic = await h.mechanic();
    const book = (key: string) =>
      h.intake.app.inject({
        method: 'POST',
        url: '/v1/session-requests',
        headers: { ...bearer(customer.token), 'idempotency-key': key },
        payload: { session_type: 'video', plan_code: 'basic', preferred_mechanic_id: mechanic.id },
      });
    const first = await book('first');
    expect(first.statusCode).toBe(201);
    expect((await book('first')).statusCode).toBe(200);
    expect((await book('second')).statusCode).toBe(201);
    // A priority_sequence is booked by its own named statement, which plans from the ranks.
    await h.intake.app.inject({ method: 'PUT', url: `/v1/favorites/${mechanic.id}`, headers: bearer(customer.token) });
    await h.intake.app.inject({
      method: 'PUT',
      url: '/v1/favorites/order',
      headers: bearer(customer.token),
      payload: { mechanic_ids: [mechanic.id] },
    });
    for (const key of ['third', 'fourth']) {
      const sequence = await h.intake.app.inject({
        method: 'POST',
        url: '/v1/session-requests',
        headers: { ...bearer(customer.token), 'idempotency-key': key },
        payload: { session_type: 'video', plan_code: 'basic', routing_type: 'priority_sequence' },
      });
      expect(sequence.statusCode).toBe(201);
    }
    const read = await h.intake.app.inject({
      method: 'GET',
      url: `/v1/session-requests/${first.json().id}`,
      headers: bearer(customer.token),
    });
    expect(read.statusCode).toBe(200);

    const { rows } = await sqlOf(h.orm.em).query<{ name: string; calls: number }>(
      `select name, (generic_plans + custom_plans)::int as calls from pg_prepared_statements
       where name like 'intake-%' order by name`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      'intake-book',
      'intake-book-sequence',
      'intake-customer',
      'intake-mechanic-exists',
      'intake-request-by-id',
      'intake-request-by-key',
    ]);
    // Three bookings, one preparation (the replay's statement found the key used and inserted nothing).
    expect(rows.find((r) => r.name === 'intake-book')?.calls).toBe(3);
    expect(rows.find((r) => r.name === 'intake-book-sequence')?.calls).toBe(2);
  });
});
