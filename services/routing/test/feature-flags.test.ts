import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAVORITES_PRIORITY_FLAG, rolloutBucket } from '../src/domain/feature-flag.js';
import {
  addCustomer,
  addMechanic,
  createRequest,
  createWorld,
  destroyWorld,
  getRequest,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';

// ENABLE_FAVORITES_PRIORITY as operators use it: plain SQL, no restart, partial rollouts.
let world: World;
let favorite: string;

beforeAll(async () => {
  world = await createWorld('flag');
  // A long safety-net re-read, so these tests see the NOTIFY path do the work.
  await startRouting(world, { PRIORITY_MINUTE_MS: 10, flagRefreshMs: 60_000 });
  favorite = await addMechanic(world.db);
});
afterAll(async () => {
  await destroyWorld(world);
});

/** How routing treated a new favorite booking by `customer`: 'priority' or its fallback reason. */
async function routeOf(customer: string): Promise<string> {
  const created = await createRequest(world.db, {
    customerId: customer,
    preferredMechanicId: favorite,
    windowMinutes: 6000,
  });
  const row = await eventually(async () => {
    const r = await getRequest(world.db, created.id);
    return (r.priority_notified_at !== null || r.broadcast_at !== null) && r;
  }, 10_000);
  return row.priority_notified_at !== null ? 'priority' : String(row.fallback_reason);
}

/**
 * Books for `customer` until a booking is routed `want`, for at most 1 s from now: what a flag
 * change must take (the safety-net re-read comes only every 60 s here, so only NOTIFY can do it).
 */
function routedSoon(customer: string, want: string): Promise<true> {
  return eventually(async () => (await routeOf(customer)) === want, 1000, `a booking routed ${want} within 1 s`);
}

describe('ENABLE_FAVORITES_PRIORITY', () => {
  it('takes effect within 1 s of an UPDATE in plain SQL, both ways, without a restart', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: false });
    await routedSoon(customer, 'flag_disabled');

    await setFlag(world.db, { is_enabled: true });
    await routedSoon(customer, 'priority');
    expect(await routeOf(customer)).toBe('priority');

    await setFlag(world.db, { is_enabled: false });
    await routedSoon(customer, 'flag_disabled');
    expect(await routeOf(customer)).toBe('flag_disabled');
  });

  it('applies only when the customer role is enabled', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: true, enabled_for_roles: ['customer'] });
    await routedSoon(customer, 'priority');
    await setFlag(world.db, { is_enabled: true, enabled_for_roles: ['admin'] });
    await routedSoon(customer, 'flag_disabled');
    expect(await routeOf(customer)).toBe('flag_disabled');
    await setFlag(world.db, { is_enabled: true, enabled_for_roles: ['customer'] });
    await routedSoon(customer, 'priority');
    expect(await routeOf(customer)).toBe('priority');
  });

  it('gives the window to exactly the customers inside the rollout percentage, consistently', async () => {
    const customers = await Promise.all(Array.from({ length: 24 }, (_, i) => addCustomer(world.db, `C${i}`)));
    const expected = customers.map((c) =>
      rolloutBucket(FAVORITES_PRIORITY_FLAG, c) < 50 ? 'priority' : 'flag_disabled',
    );
    const inside = customers[expected.indexOf('priority')]!;
    const outside = customers[expected.indexOf('flag_disabled')]!;
    // Both sides are populated (a uuid sample of 24 at 50 % is not one-sided).
    expect(inside && outside).toBeTruthy();
    await setFlag(world.db, { is_enabled: true });
    await routedSoon(outside, 'priority');
    // From 100 % to 50 %: the change has arrived once a customer outside is left out.
    await setFlag(world.db, { is_enabled: true, rollout_percentage: 50 });
    await routedSoon(outside, 'flag_disabled');
    const first = await Promise.all(customers.map(routeOf));
    expect(first).toEqual(expected);
    // The same customers land on the same side every time.
    expect(await Promise.all(customers.map(routeOf))).toEqual(expected);

    await setFlag(world.db, { is_enabled: true, rollout_percentage: 0 });
    await routedSoon(inside, 'flag_disabled');
    expect(new Set(await Promise.all(customers.slice(0, 6).map(routeOf)))).toEqual(new Set(['flag_disabled']));
    await setFlag(world.db, { is_enabled: true, rollout_percentage: 100 });
  });

  it('keeps following changes after its listener connection was killed', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: true });
    await routedSoon(customer, 'priority');
    // Kill every LISTEN connection of this database (what a PostgreSQL failover does to it).
    const listening = `datname = current_database() and query ilike 'listen dibs_feature_flags%'`;
    const killed = await world.db.query<{ pid: number }>(
      `select pid, pg_terminate_backend(pid) from pg_stat_activity where ${listening}`,
    );
    expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    // A new connection has run its LISTEN (and finished it): a NOTIFY from now on reaches it.
    await eventually(
      async () => {
        const { rows } = await world.db.query(
          `select 1 from pg_stat_activity where ${listening} and state = 'idle' and pid <> all($1::int[])`,
          [killed.rows.map((r) => r.pid)],
        );
        return rows.length > 0;
      },
      10_000,
      'the flag listener to listen again',
    );
    await setFlag(world.db, { is_enabled: false });
    await routedSoon(customer, 'flag_disabled');
    expect(await routeOf(customer)).toBe('flag_disabled');
  });
});
