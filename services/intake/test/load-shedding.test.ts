import { eventually } from '@dibs/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IntakeHarness, startIntake } from './harness.js';

// Past its capacity intake refuses at the door instead of queueing: a request over
// INTAKE_MAX_IN_FLIGHT gets 503 problem+json with Retry-After at once and changes nothing.
describe('load shedding', () => {
  let h: IntakeHarness;
  let base: string;
  beforeAll(async () => {
    h = await startIntake({ relay: false, env: { INTAKE_MAX_IN_FLIGHT: '2' } });
    // Over a real socket: what a client sees, including a request it gives up on.
    base = await h.intake.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function book(token: string, plan: string, signal?: AbortSignal): Promise<Response> {
    return fetch(`${base}/v1/session-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session_type: 'video', plan_code: plan }),
      ...(signal ? { signal } : {}),
    });
  }

  /** Holds every booking inside PostgreSQL until released: its INSERT waits on a table lock. */
  async function holdBookings(): Promise<{ waiting(): Promise<number>; release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: h.db.url });
    await client.connect();
    await client.query('begin');
    await client.query('lock table session_requests in share mode');
    return {
      // Asked on another connection: inside a transaction pg_locks stays as first read. The lock
      // waited for, not the statement's text: pg_stat_activity cuts a long text short.
      async waiting() {
        const { rows } = await h.db.query(
          `select count(*)::int as n from pg_locks
           where relation = 'session_requests'::regclass and mode = 'RowExclusiveLock' and not granted`,
        );
        return rows[0].n as number;
      },
      async release() {
        await client.query('rollback');
        await client.end();
      },
    };
  }

  const plansOf = async (customerId: string) =>
    (
      await h.db.query('select plan_code from session_requests where customer_id = $1 order by plan_code', [customerId])
    ).rows.map((r) => r.plan_code);

  it('refuses a request past the limit with 503 and Retry-After, creating nothing, and admits again once one finishes', async () => {
    const c = await h.customer();
    const hold = await holdBookings();
    const first = book(c.token, 'a');
    const second = book(c.token, 'b');
    await eventually(async () => (await hold.waiting()) === 2, 10_000, 'two bookings waiting in PostgreSQL');

    const refused = await book(c.token, 'c');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ status: 503, code: 'overloaded' });

    await hold.release();
    expect((await first).status).toBe(201);
    expect((await second).status).toBe(201);
    expect((await book(c.token, 'd')).status).toBe(201);
    expect(await plansOf(c.id)).toEqual(['a', 'b', 'd']);
  });

  it('frees the slot of a request whose client went away', async () => {
    const c = await h.customer();
    const hold = await holdBookings();
    const gone = new AbortController();
    const abandoned = book(c.token, 'e', gone.signal).catch(() => undefined);
    const kept = book(c.token, 'f');
    await eventually(async () => (await hold.waiting()) === 2, 10_000, 'two bookings waiting in PostgreSQL');
    gone.abort();
    await abandoned;
    await hold.release();
    expect((await kept).status).toBe(201);
    // Both slots are free again: two more at once are admitted.
    const [g, i] = await Promise.all([book(c.token, 'g'), book(c.token, 'i')]);
    expect([g.status, i.status]).toEqual([201, 201]);
  });

  it('never refuses probes', async () => {
    const c = await h.customer();
    const hold = await holdBookings();
    const waiting = [book(c.token, 'j'), book(c.token, 'k')];
    await eventually(async () => (await hold.waiting()) === 2, 10_000, 'two bookings waiting in PostgreSQL');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    await hold.release();
    await Promise.all(waiting);
  });
});
