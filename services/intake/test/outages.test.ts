import { eventually, natsServers, startTcpProxy, type TcpProxy } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

describe('PostgreSQL unreachable', () => {
  let h: IntakeHarness;
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1:5432');
    h = await startIntake({
      relay: false,
      databaseUrl: (db) => {
        const u = new URL(db.url);
        u.host = proxy.address;
        return u.toString();
      },
    });
  });
  afterAll(async () => {
    proxy.restore();
    await h?.close();
    await proxy.close();
  });

  it('answers 503 with Retry-After, writes nothing half-way, and recovers when the database is back', async () => {
    const c = await h.customer();
    const book = () =>
      h.intake.app.inject({
        method: 'POST',
        url: '/v1/session-requests',
        headers: bearer(c.token),
        payload: { session_type: 'v', plan_code: 'p' },
      });
    expect((await book()).statusCode).toBe(201);

    proxy.cut();
    const down = await book();
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.headers['content-type']).toMatch(/problem\+json/);
    expect(down.json()).toMatchObject({ status: 503, code: 'unavailable' });
    const ready = await h.intake.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);

    proxy.restore();
    const up = await eventually(
      async () => {
        const res = await book();
        return res.statusCode === 201 ? res : undefined;
      },
      15_000,
      'intake to recover',
    );
    expect(up.statusCode).toBe(201);
    // Exactly the two accepted bookings exist, each with its one outbox event.
    const rows = await h.db.query(`select count(*)::int as n from session_requests where customer_id = $1`, [c.id]);
    expect(rows.rows[0].n).toBe(2);
    const events = await h.db.query(
      `select count(*)::int as n from intake_outbox where payload->'request'->>'customer_id' = $1`,
      [c.id],
    );
    expect(events.rows[0].n).toBe(2);
  });
});

describe('NATS unreachable', () => {
  let h: IntakeHarness;
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(new URL(natsServers()[0] as string).host);
    h = await startIntake({ natsServers: [`nats://${proxy.address}`] });
  });
  afterAll(async () => {
    proxy.restore();
    await h?.close();
    await proxy.close();
  });

  it('still accepts bookings (outbox) and publishes them when NATS returns', async () => {
    const c = await h.customer();
    proxy.cut();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await h.intake.app.inject({
        method: 'POST',
        url: '/v1/session-requests',
        headers: bearer(c.token),
        payload: { session_type: 'v', plan_code: `p${i}` },
      });
      expect(res.statusCode).toBe(201);
      ids.push(res.json().id);
    }
    const pending = async () =>
      (
        await h.db.query(
          `select count(*)::int as n from intake_outbox where published_at is null and payload->'request'->>'customer_id' = $1`,
          [c.id],
        )
      ).rows[0].n;
    expect(await pending()).toBe(5);

    proxy.restore();
    await eventually(async () => (await pending()) === 0, 20_000, 'outbox drained after NATS returned');
  });
});
