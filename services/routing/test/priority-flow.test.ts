import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  command,
  createRequest,
  createWorld,
  destroyWorld,
  eventKinds,
  getRequest,
  ms,
  notificationsOf,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';

// The seed's scenarios 1–4 and the routing rules around them, end to end: a request stored with
// its created event → routing → rows, lifecycle events and notifications.
const MINUTE_MS = 100; // a 10-minute window lasts 1 s

let world: World;
let customer: string;
let favorite: string;
let other: string;

beforeAll(async () => {
  world = await createWorld('flow');
  await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
  customer = await addCustomer(world.db, 'Ada Lovelace');
  favorite = await addMechanic(world.db);
  other = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

const broadcastDone = (id: string) =>
  eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return r.broadcast_at !== null && r;
    },
    20_000,
    'the broadcast',
  );

describe('test 1: priority notification success', () => {
  it('offers the request to the favorite alone, who accepts within the window; no fallback broadcast', async () => {
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 50,
    });
    const offered = await eventually(
      async () => {
        const r = await getRequest(world.db, created.id);
        return r.priority_notified_at !== null && r;
      },
      10_000,
      'the priority offer',
    );
    expect(offered.priority_expires_at).not.toBeNull();
    expect(ms(offered.priority_expires_at) - ms(offered.priority_notified_at)).toBe(50 * MINUTE_MS);
    expect(offered.broadcast_at).toBeNull();

    const frames = await eventually(async () => {
      const n = await notificationsOf(world, created.id, `notify.mechanic.${favorite}`);
      return n.length > 0 && n;
    });
    expect(frames).toHaveLength(1);
    expect(frames[0]?.data).toMatchObject({
      type: 'priority_session_request',
      target_mechanic_id: favorite,
      priority_window_minutes: 50,
      expires_at: offered.priority_expires_at,
      message: 'Ada Lovelace specifically requested you! You have 50 minutes priority access.',
      request: { id: created.id, priority_notified_at: offered.priority_notified_at },
    });

    const reply = await command(world, 'accept', { request_id: created.id, mechanic_id: favorite });
    expect(reply).toMatchObject({ ok: true, request: { status: 'accepted', mechanic_id: favorite } });

    const row = await getRequest(world.db, created.id);
    expect(row).toMatchObject({ status: 'accepted', mechanic_id: favorite, broadcast_at: null, fallback_reason: null });
    expect(ms(row.accepted_at)).toBeLessThan(ms(row.priority_expires_at));
    await eventually(async () => (await eventKinds(world, created.id)).length === 3);
    expect(await eventKinds(world, created.id)).toEqual(['created', 'priority_notified', 'accepted']);
    expect(await notificationsOf(world, created.id, 'notify.mechanics')).toEqual([]);
    const updates = await eventually(async () => {
      const n = await notificationsOf(world, created.id, `notify.customer.${customer}`);
      return n.length === 2 && n;
    });
    expect(updates.map((u) => (u.data.request as { status: string }).status)).toEqual(['pending', 'accepted']);
  });
});

describe('test 2: priority timeout → fallback', () => {
  it('broadcasts to every mechanic once the window ends unanswered, never before', async () => {
    const created = await createRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
    const row = await broadcastDone(created.id);
    expect(row.fallback_reason).toBe('priority_timeout');
    expect(row.status).toBe('pending');
    // Routing was up throughout: at the deadline, at most 1 s late (ARCHITECTURE.md).
    expect(ms(row.broadcast_at)).toBeGreaterThanOrEqual(ms(row.priority_expires_at));
    expect(ms(row.broadcast_at)).toBeLessThanOrEqual(ms(row.priority_expires_at) + 1000);
    expect(ms(row.priority_expires_at) - ms(row.priority_notified_at)).toBe(10 * MINUTE_MS);

    const offers = await eventually(async () => {
      const n = await notificationsOf(world, created.id, 'notify.mechanics');
      return n.length > 0 && n;
    });
    expect(offers).toHaveLength(1);
    expect(offers[0]?.data).toMatchObject({
      type: 'new_request',
      routing_type: 'broadcast',
      fallback_reason: 'priority_timeout',
    });
    expect(offers[0]?.exclude).toEqual([]);
    await eventually(async () => (await eventKinds(world, created.id)).length === 3);
    expect(await eventKinds(world, created.id)).toEqual(['created', 'priority_notified', 'broadcast']);

    // Any mechanic can accept now, not just the favorite.
    const reply = await command(world, 'accept', { request_id: created.id, mechanic_id: other });
    expect(reply).toMatchObject({ ok: true, request: { status: 'accepted', mechanic_id: other } });
    const taken = await eventually(async () => {
      const n = await notificationsOf(world, created.id, 'notify.mechanics');
      return n.length === 2 && n;
    });
    expect(taken[1]?.data).toMatchObject({ type: 'request_taken', request_id: created.id });
  });
});

describe('test 3: feature flag disabled', () => {
  it('broadcasts at once with flag_disabled and opens no window', async () => {
    await setFlag(world.db, { is_enabled: false });
    try {
      await eventually(async () => {
        // The flag cache follows the change within moments (NOTIFY); wait for a request to prove it.
        const probe = await createRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
        const r = await broadcastDone(probe.id);
        return r.fallback_reason === 'flag_disabled' && r;
      }, 10_000);
      const created = await createRequest(world.db, { customerId: customer, preferredMechanicId: favorite });
      const row = await broadcastDone(created.id);
      expect(row).toMatchObject({
        fallback_reason: 'flag_disabled',
        priority_notified_at: null,
        priority_expires_at: null,
      });
      expect(ms(row.broadcast_at) - ms(row.created_at)).toBeLessThan(10 * MINUTE_MS);
      await eventually(async () => (await eventKinds(world, created.id)).length === 2);
      expect(await eventKinds(world, created.id)).toEqual(['created', 'broadcast']);
      expect(await notificationsOf(world, created.id, `notify.mechanic.${favorite}`)).toEqual([]);
    } finally {
      await setFlag(world.db, { is_enabled: true });
    }
  });
});

describe('test 4: invalid mechanic id', () => {
  it('broadcasts with priority_failed when the preferred mechanic does not exist (stored as null)', async () => {
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: null,
      routingType: 'priority_broadcast',
    });
    const row = await broadcastDone(created.id);
    expect(row).toMatchObject({ fallback_reason: 'priority_failed', priority_notified_at: null, status: 'pending' });
  });

  it('broadcasts with priority_failed when the preferred mechanic is not approved', async () => {
    for (const status of ['pending', 'suspended'] as const) {
      const unapproved = await addMechanic(world.db, status);
      const created = await createRequest(world.db, { customerId: customer, preferredMechanicId: unapproved });
      const row = await broadcastDone(created.id);
      expect(row).toMatchObject({ fallback_reason: 'priority_failed', priority_notified_at: null });
      expect(await notificationsOf(world, created.id, `notify.mechanic.${unapproved}`)).toEqual([]);
    }
  });
});

describe('requests outside the favorites flow', () => {
  it('broadcasts a plain broadcast request at once, with no fallback reason', async () => {
    const created = await createRequest(world.db, { customerId: customer });
    const row = await broadcastDone(created.id);
    expect(row).toMatchObject({ routing_type: 'broadcast', fallback_reason: null, priority_notified_at: null });
    const offers = await eventually(async () => {
      const n = await notificationsOf(world, created.id, 'notify.mechanics');
      return n.length > 0 && n;
    });
    expect(offers[0]?.data).toMatchObject({ type: 'new_request', fallback_reason: null });
  });

  it('never gives a workshop booking a priority window, even with a preferred mechanic', async () => {
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      preferredWorkshopId: '7b4a1c9e-9a55-4a86-8f0e-2c1d2f7a8b11',
    });
    const row = await broadcastDone(created.id);
    expect(row).toMatchObject({
      routing_type: 'priority_broadcast',
      fallback_reason: null,
      priority_notified_at: null,
    });
    expect(await notificationsOf(world, created.id, `notify.mechanic.${favorite}`)).toEqual([]);
  });

  it('keeps a customer-chosen broadcast plain even when a preferred mechanic is named', async () => {
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      routingType: 'broadcast',
    });
    const row = await broadcastDone(created.id);
    expect(row).toMatchObject({ fallback_reason: null, priority_notified_at: null });
  });
});
