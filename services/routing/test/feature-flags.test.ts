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
  sleep,
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

describe('ENABLE_FAVORITES_PRIORITY', () => {
  it('takes effect within 1 s of an UPDATE in plain SQL, both ways, without a restart', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: false });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('flag_disabled');

    await setFlag(world.db, { is_enabled: true });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('priority');

    await setFlag(world.db, { is_enabled: false });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('flag_disabled');
  });

  it('applies only when the customer role is enabled', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: true, enabled_for_roles: ['admin'] });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('flag_disabled');
    await setFlag(world.db, { is_enabled: true, enabled_for_roles: ['customer'] });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('priority');
  });

  it('gives the window to exactly the customers inside the rollout percentage, consistently', async () => {
    const customers = await Promise.all(Array.from({ length: 24 }, (_, i) => addCustomer(world.db, `C${i}`)));
    await setFlag(world.db, { is_enabled: true, rollout_percentage: 50 });
    await sleep(1000);
    const expected = customers.map((c) =>
      rolloutBucket(FAVORITES_PRIORITY_FLAG, c) < 50 ? 'priority' : 'flag_disabled',
    );
    const first = await Promise.all(customers.map(routeOf));
    expect(first).toEqual(expected);
    // The same customers land on the same side every time.
    expect(await Promise.all(customers.map(routeOf))).toEqual(expected);
    // Both sides are populated (a uuid sample of 24 at 50 % is not one-sided).
    expect(new Set(first).size).toBe(2);

    await setFlag(world.db, { is_enabled: true, rollout_percentage: 0 });
    await sleep(1000);
    expect(new Set(await Promise.all(customers.slice(0, 6).map(routeOf)))).toEqual(new Set(['flag_disabled']));
    await setFlag(world.db, { is_enabled: true, rollout_percentage: 100 });
  });

  it('keeps following changes after its listener connection was killed', async () => {
    const customer = await addCustomer(world.db);
    await setFlag(world.db, { is_enabled: true });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('priority');
    // Kill every LISTEN connection of this database (what a PostgreSQL failover does to it).
    const killed = await world.db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen dibs_feature_flags%'`,
    );
    expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    await sleep(1500);
    await setFlag(world.db, { is_enabled: false });
    await sleep(1000);
    expect(await routeOf(customer)).toBe('flag_disabled');
  });
});
