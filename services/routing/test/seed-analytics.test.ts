import {
  eventually,
  SEED_FALLBACK_EFFECTIVENESS,
  SEED_RESPONSE_TIMES,
  SEED_SUCCESS_RATE,
  SEED_TEST_QUERY_1,
  SEED_TEST_QUERY_2,
  SEED_TEST_QUERY_3,
  SEED_TIMEOUT_RATE,
} from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  command,
  createRequest,
  createWorld,
  destroyWorld,
  getRequest,
  ms,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';

// Test 5 of the seed: its verification and analytics SQL, unchanged, on rows routing wrote while
// living through each outcome. The seed's SQL measures "10 minutes" on the wall clock, so once the
// story is over every timestamp is moved 11 minutes into the past, as if it had happened then.
const MINUTE_MS = 100;

let world: World;
let favorite: string;
let other: string;
const ids: Record<string, string> = {};

async function until(id: string, what: 'offered' | 'broadcast') {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return (what === 'offered' ? r.priority_notified_at : r.broadcast_at) !== null && r;
    },
    15_000,
    `${id} ${what}`,
  );
}

beforeAll(async () => {
  world = await createWorld('seedsql');
  await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
  const customer = await addCustomer(world.db, 'Seed Customer');
  favorite = await addMechanic(world.db);
  other = await addMechanic(world.db);
  await world.db.query(`update mechanics set first_name = 'Fay', last_name = 'Favorite' where id = $1`, [favorite]);
  await setFlag(world.db, { is_enabled: true });
  const book = (windowMinutes: number, customerId = customer) =>
    createRequest(world.db, { customerId, preferredMechanicId: favorite, windowMinutes });

  // R1, R5: accepted by the favorite inside a long window.
  for (const key of ['r1', 'r5']) {
    const r = await book(600);
    await until(r.id, 'offered');
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: favorite })).toMatchObject({ ok: true });
    ids[key] = r.id;
  }
  // R2: window ends unanswered → broadcast → another mechanic accepts. R3: nobody ever accepts.
  for (const key of ['r2', 'r3']) {
    const r = await book(5);
    await until(r.id, 'broadcast');
    ids[key] = r.id;
  }
  expect(await command(world, 'accept', { request_id: ids.r2 as string, mechanic_id: other })).toMatchObject({
    ok: true,
  });
  // R4: the favorite declines → broadcast at once → nobody accepts.
  const r4 = await book(600);
  await until(r4.id, 'offered');
  expect(await command(world, 'decline', { request_id: r4.id, mechanic_id: favorite })).toMatchObject({ ok: true });
  ids.r4 = r4.id;
  // R6: flag off → no window → another mechanic accepts.
  await setFlag(world.db, { is_enabled: false });
  // Routing has the change once a throwaway customer's booking is routed flag_disabled; the
  // throwaway customer goes afterwards, with its bookings (ON DELETE CASCADE), out of the seed SQL.
  const probe = await addCustomer(world.db, 'Probe Customer');
  await eventually(
    async () => {
      const p = await book(600, probe);
      const r = await eventually(async () => {
        const row = await getRequest(world.db, p.id);
        return (row.priority_notified_at !== null || row.broadcast_at !== null) && row;
      }, 15_000);
      return r.fallback_reason === 'flag_disabled';
    },
    10_000,
    'routing to see the flag off',
  );
  await world.db.query('delete from customers where id = $1', [probe]);
  const r6 = await book(600);
  await until(r6.id, 'broadcast');
  expect(await command(world, 'accept', { request_id: r6.id, mechanic_id: other })).toMatchObject({ ok: true });
  ids.r6 = r6.id;

  await world.db.query(`
    update session_requests set
      created_at = created_at - interval '11 minutes',
      priority_notified_at = priority_notified_at - interval '11 minutes',
      priority_expires_at = priority_expires_at - interval '11 minutes',
      broadcast_at = broadcast_at - interval '11 minutes',
      accepted_at = accepted_at - interval '11 minutes'`);
}, 120_000);
afterAll(async () => {
  await destroyWorld(world);
});

describe('the columns routing keeps', () => {
  it('record what happened to each request', async () => {
    const rows = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await getRequest(world.db, id)])),
    );
    expect(rows.r1).toMatchObject({
      status: 'accepted',
      mechanic_id: favorite,
      broadcast_at: null,
      fallback_reason: null,
    });
    expect(rows.r2).toMatchObject({ status: 'accepted', mechanic_id: other, fallback_reason: 'priority_timeout' });
    expect(rows.r3).toMatchObject({ status: 'pending', mechanic_id: null, fallback_reason: 'priority_timeout' });
    expect(rows.r4).toMatchObject({ status: 'pending', fallback_reason: 'priority_declined' });
    expect(rows.r6).toMatchObject({
      status: 'accepted',
      mechanic_id: other,
      fallback_reason: 'flag_disabled',
      priority_notified_at: null,
    });
    for (const k of ['r2', 'r3'])
      expect(ms(rows[k].broadcast_at)).toBeGreaterThanOrEqual(ms(rows[k].priority_expires_at));
    for (const k of ['r1', 'r2', 'r5', 'r6']) expect(rows[k].accepted_at).not.toBeNull();
  });
});

describe("the seed's Testing & Verification queries", () => {
  it('test query 1: all priority requests of a mechanic', async () => {
    const { rows } = await world.db.query(SEED_TEST_QUERY_1, [favorite]);
    expect(rows.map((r) => r.id).sort()).toEqual([ids.r1, ids.r2, ids.r3, ids.r4, ids.r5].sort());
  });

  it('test query 2: priority timeouts (still pending 10 minutes after the offer)', async () => {
    const { rows } = await world.db.query(SEED_TEST_QUERY_2);
    expect(rows).toEqual([{ count: '2' }]); // r3 (timed out) and r4 (declined), both never accepted
  });

  it('test query 3: priority success rate by mechanic', async () => {
    const { rows } = await world.db.query(SEED_TEST_QUERY_3);
    // Six bookings named the favorite (r6 too, with the flag off); four were accepted by someone.
    expect(rows).toEqual([
      { mechanic_name: 'Fay Favorite', priority_requests: '6', accepted: '4', success_rate: '66.67' },
    ]);
  });
});

describe("the seed's Analytics Queries", () => {
  it('priority success rate by mechanic', async () => {
    const { rows } = await world.db.query(SEED_SUCCESS_RATE);
    expect(rows).toEqual([
      {
        mechanic_name: 'Fay Favorite',
        total_priority_requests: '5',
        accepted_by_preferred: '2',
        priority_success_rate: '40.00',
      },
    ]);
  });

  it('average priority response time', async () => {
    const { rows } = await world.db.query(SEED_RESPONSE_TIMES);
    const minutes = await Promise.all(
      [ids.r1, ids.r5].map(async (id) => {
        const r = await getRequest(world.db, id as string);
        return (ms(r.accepted_at) - ms(r.priority_notified_at)) / 60_000;
      }),
    );
    const row = rows[0];
    expect(Number(row.avg_response_minutes)).toBeCloseTo((minutes[0]! + minutes[1]!) / 2, 6);
    expect(Number(row.min_response_minutes)).toBeCloseTo(Math.min(...minutes), 6);
    expect(Number(row.max_response_minutes)).toBeCloseTo(Math.max(...minutes), 6);
    expect(Math.min(...minutes)).toBeGreaterThan(0);
  });

  it('priority timeout rate', async () => {
    const { rows } = await world.db.query(SEED_TIMEOUT_RATE);
    expect(rows).toEqual([{ total_priority_requests: '5', timed_out: '2', timeout_rate: '40.00' }]);
  });

  it('fallback broadcast effectiveness', async () => {
    const { rows } = await world.db.query(SEED_FALLBACK_EFFECTIVENESS);
    expect(rows).toEqual([{ total_fallbacks: '5', accepted_after_fallback: '3', fallback_success_rate: '60.00' }]);
  });
});
