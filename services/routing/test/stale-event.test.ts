import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  createdSettled,
  createWorld,
  destroyWorld,
  eventKinds,
  getRequest,
  setFlag,
  startRouting,
  storeRequest,
  type World,
} from './support/fixture.js';

// On its first delivery routing decides a priority offer from the `created` event alone (no read
// of the row) and lets the write's guards check what it assumed. Here the world changes between
// the booking and that delivery: routing must notice and decide from the row instead.
let world: World;
let customer: string;

beforeAll(async () => {
  world = await createWorld('stale');
  await startRouting(world, { PRIORITY_MINUTE_MS: 60_000 });
  customer = await addCustomer(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

describe('a created event that no longer tells the truth', () => {
  it('opens no window for a request cancelled before routing saw it', async () => {
    const favorite = await addMechanic(world.db);
    const { request, publish } = await storeRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
    await world.db.query(`update session_requests set status = 'cancelled', cancelled_at = now() where id = $1`, [
      request.id,
    ]);
    await publish();
    await createdSettled(world);
    const row = await getRequest(world.db, request.id);
    expect(row).toMatchObject({ status: 'cancelled', priority_notified_at: null, broadcast_at: null });
    expect(await eventKinds(world, request.id)).toEqual(['created']);
  });

  it('broadcasts (priority_failed) when the favorite was suspended before routing saw it', async () => {
    const favorite = await addMechanic(world.db);
    const { request, publish } = await storeRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
    await world.db.query(`update mechanics set status = 'suspended' where id = $1`, [favorite]);
    await publish();
    const row = await eventually(async () => {
      const r = await getRequest(world.db, request.id);
      return r.broadcast_at !== null && r;
    });
    expect(row).toMatchObject({ fallback_reason: 'priority_failed', priority_notified_at: null });
    expect(await eventKinds(world, request.id)).toEqual(['created', 'broadcast']);
  });

  it('broadcasts (priority_declined) when the favorite declined before routing saw it', async () => {
    const favorite = await addMechanic(world.db);
    const { request, publish } = await storeRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
    await world.db.query(`insert into session_request_declines (request_id, mechanic_id) values ($1, $2)`, [
      request.id,
      favorite,
    ]);
    await publish();
    const row = await eventually(async () => {
      const r = await getRequest(world.db, request.id);
      return r.broadcast_at !== null && r;
    });
    expect(row).toMatchObject({ fallback_reason: 'priority_declined', priority_notified_at: null });
    expect(await eventKinds(world, request.id)).toEqual(['created', 'broadcast']);
  });

  it('still offers the favorite when nothing changed (the event stands for the row)', async () => {
    const favorite = await addMechanic(world.db);
    const { request, publish } = await storeRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
    await publish();
    const row = await eventually(async () => {
      const r = await getRequest(world.db, request.id);
      return r.priority_notified_at !== null && r;
    });
    expect(row).toMatchObject({ status: 'pending', broadcast_at: null });
    expect(await eventKinds(world, request.id)).toEqual(['created', 'priority_notified']);
  });
});
