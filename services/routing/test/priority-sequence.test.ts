import type { Offer, SessionRequest } from '@dibs/contracts';
import { natsNames, presenceKey } from '@dibs/contracts';
import { eventually } from '@dibs/testing';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import pg from 'pg';
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
  setAvailability,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';

// Ranked favorites offered in sequence (CONTRACT §6), end to end: a request stored with its plan
// and created event → routing (two replicas) → rows, offers, lifecycle events and frames.
const MINUTE_MS = 100; // a 3-minute tier lasts 300 ms

let world: World;
let customer: string;
let other: string;

beforeAll(async () => {
  world = await createWorld('seq');
  // Two replicas: every tier transition must still happen exactly once.
  await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
  await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
  customer = await addCustomer(world.db, 'Ada Lovelace');
  other = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

async function threeFavorites(): Promise<[string, string, string]> {
  return [await addMechanic(world.db), await addMechanic(world.db), await addMechanic(world.db)];
}

function book(tiers: [string, number][]): Promise<SessionRequest> {
  return createRequest(world.db, {
    customerId: customer,
    tiers: tiers.map(([mechanicId, windowMinutes]) => ({ mechanicId, windowMinutes })),
  });
}

/** The request once `until` holds for it. */
function requestWhen(id: string, until: (r: SessionRequest) => boolean, what: string): Promise<SessionRequest> {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return until(r) && r;
    },
    20_000,
    what,
  );
}

const outcomes = (r: SessionRequest) => r.offers.map((o) => [o.tier, o.outcome]);

/** Every tier ended no earlier than its stored deadline and at most 1 s after it (the next one opened then). */
function expectTiersOnTime(offers: Offer[], endedAt: (tier: number) => number) {
  for (const o of offers.filter((x) => x.outcome === 'timeout')) {
    const end = endedAt(o.tier);
    expect(end).toBeGreaterThanOrEqual(ms(o.expires_at));
    expect(end).toBeLessThanOrEqual(ms(o.expires_at) + 1000);
  }
}

describe('a sequence of ranked favorites', () => {
  it('skips the favorite who is away, lets the second one’s tier pass, and the third accepts', async () => {
    const [away, slow, taker] = await threeFavorites();
    await setAvailability(world.db, away, { available: false });
    const created = await book([
      [away, 5],
      [slow, 3],
      [taker, 20],
    ]);
    expect(created).toMatchObject({ routing_type: 'priority_sequence', preferred_mechanic_id: away, offers: [] });

    const second = await requestWhen(created.id, (r) => r.current_tier === 2, 'tier 2');
    expect(outcomes(second)).toEqual([
      [1, 'skipped_unavailable'],
      [2, null],
    ]);
    expect(second.offers[0]).toMatchObject({ mechanic_id: away, offered_at: null, expires_at: null });
    expect(second.offers[1]?.mechanic_id).toBe(slow);
    expect(ms(second.offers[1]?.expires_at ?? null) - ms(second.offers[1]?.offered_at ?? null)).toBe(3 * MINUTE_MS);
    // The first offer is the request's priority_notified_at; its window is not the single-window column's.
    expect(second.priority_notified_at).toBe(second.offers[1]?.offered_at);
    expect(second.priority_expires_at).toBeNull();

    // Nobody but the open tier's mechanic may accept while it is open.
    for (const m of [other, taker, away]) {
      expect(await command(world, 'accept', { request_id: created.id, mechanic_id: m })).toMatchObject({
        ok: false,
        code: 'priority_window_active',
      });
    }

    const third = await requestWhen(created.id, (r) => r.current_tier === 3, 'tier 3');
    expect(outcomes(third)).toEqual([
      [1, 'skipped_unavailable'],
      [2, 'timeout'],
      [3, null],
    ]);
    expectTiersOnTime(third.offers, () => ms(third.offers[2]?.offered_at ?? null));
    // The second favorite's tier is over: too late for them now.
    expect(await command(world, 'accept', { request_id: created.id, mechanic_id: slow })).toMatchObject({
      ok: false,
      code: 'priority_window_active',
    });

    const reply = await command(world, 'accept', { request_id: created.id, mechanic_id: taker });
    expect(reply).toMatchObject({ ok: true, request: { status: 'accepted', mechanic_id: taker, current_tier: null } });
    const done = await getRequest(world.db, created.id);
    expect(outcomes(done)).toEqual([
      [1, 'skipped_unavailable'],
      [2, 'timeout'],
      [3, 'accepted'],
    ]);
    expect(done.broadcast_at).toBeNull();

    // Frames: each tier's mechanic its offer with its tier; offer_expired to the one whose tier passed.
    await eventually(async () => (await eventKinds(world, created.id)).length === 4);
    expect(await eventKinds(world, created.id)).toEqual([
      'created',
      'priority_notified',
      'priority_notified',
      'accepted',
    ]);
    expect(await notificationsOf(world, created.id, `notify.mechanic.${away}`)).toEqual([]);
    const toSlow = (await notificationsOf(world, created.id, `notify.mechanic.${slow}`)).map((f) => f.data);
    expect(toSlow).toMatchObject([
      { type: 'priority_session_request', tier: 2, priority_window_minutes: 3, target_mechanic_id: slow },
      { type: 'offer_expired', request_id: created.id },
    ]);
    const toTaker = (await notificationsOf(world, created.id, `notify.mechanic.${taker}`)).map((f) => f.data);
    expect(toTaker).toMatchObject([
      {
        type: 'priority_session_request',
        tier: 3,
        priority_window_minutes: 20,
        expires_at: done.offers[2]?.expires_at,
        message: 'Ada Lovelace specifically requested you! You have 20 minutes priority access.',
      },
    ]);
    // The customer hears of each tier change, then of the accept.
    const updates = (await notificationsOf(world, created.id, `notify.customer.${customer}`)).map(
      (f) => (f.data.request as SessionRequest).current_tier,
    );
    expect(updates).toEqual([2, 3, null]);
    expect(await notificationsOf(world, created.id, 'notify.mechanics')).toEqual([]);
  });

  it('moves to the next tier at once when the open tier’s mechanic declines, and broadcasts after the last', async () => {
    const [first, second] = await threeFavorites();
    const created = await book([
      [first, 50],
      [second, 50],
    ]);
    await requestWhen(created.id, (r) => r.current_tier === 1, 'tier 1');
    const declined = await command(world, 'decline', { request_id: created.id, mechanic_id: first });
    expect(declined).toMatchObject({ ok: true, request: { current_tier: 2 } });
    const now = await getRequest(world.db, created.id);
    expect(outcomes(now)).toEqual([
      [1, 'declined'],
      [2, null],
    ]);
    // Well before tier 1's 5 s deadline.
    expect(ms(now.offers[1]?.offered_at ?? null)).toBeLessThan(ms(now.offers[0]?.expires_at ?? null));

    const last = await command(world, 'decline', { request_id: created.id, mechanic_id: second });
    expect(last).toMatchObject({ ok: true, request: { fallback_reason: 'priority_declined', current_tier: null } });
    const broadcast = await notificationsOf(world, created.id, 'notify.mechanics');
    expect(broadcast).toHaveLength(1);
    expect(broadcast[0]?.data).toMatchObject({ type: 'new_request', fallback_reason: 'priority_declined' });
    expect(broadcast[0]?.exclude?.sort()).toEqual([first, second].sort());
    // A decliner never gets offer_expired: they ended their tier themselves.
    const toFirst = (await notificationsOf(world, created.id, `notify.mechanic.${first}`)).map((f) => f.data.type);
    expect(toFirst).toEqual(['priority_session_request']);
    expect(await command(world, 'accept', { request_id: created.id, mechanic_id: other })).toMatchObject({ ok: true });
  });

  it('broadcasts with priority_timeout when the last tier ends unanswered, each tier on time and once', async () => {
    const [a, b, c] = await threeFavorites();
    const created = await book([
      [a, 2],
      [b, 3],
      [c, 2],
    ]);
    const row = await requestWhen(created.id, (r) => r.broadcast_at !== null, 'the broadcast');
    expect(row.fallback_reason).toBe('priority_timeout');
    expect(outcomes(row)).toEqual([
      [1, 'timeout'],
      [2, 'timeout'],
      [3, 'timeout'],
    ]);
    const offered = row.offers.map((o) => ms(o.offered_at));
    expectTiersOnTime(row.offers, (tier) => (tier < 3 ? (offered[tier] as number) : ms(row.broadcast_at)));
    await eventually(async () => (await eventKinds(world, created.id)).length === 5);
    // Exactly once per tier, although two replicas swept.
    expect(await eventKinds(world, created.id)).toEqual([
      'created',
      'priority_notified',
      'priority_notified',
      'priority_notified',
      'broadcast',
    ]);
    const toC = await notificationsOf(world, created.id, `notify.mechanic.${c}`);
    expect(toC.map((f) => f.data.type)).toEqual(['priority_session_request', 'offer_expired']);
    // The last tier's mechanic also gets the broadcast, from the same event: every frame it gets
    // has an id of its own, or the one dropping repeats by id would lose one of them.
    const toEveryone = await notificationsOf(world, created.id, 'notify.mechanics');
    expect(toEveryone.map((f) => f.data.type)).toEqual(['new_request']);
    const ids = [...toC, ...toEveryone].map((f) => f.data.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('broadcasts at once with priority_unavailable when every favorite is away or out of schedule', async () => {
    const [a, b] = await threeFavorites();
    await setAvailability(world.db, a, { available: false });
    // A schedule that is never now: one minute a week, on the day after today in Kiribati.
    const day = (new Date().getUTCDay() + 3) % 7;
    await setAvailability(world.db, b, {
      schedule: [{ day, from: '03:00', to: '03:01' }],
      timezone: 'Pacific/Kiritimati',
    });
    const created = await book([
      [a, 5],
      [b, 5],
    ]);
    const row = await requestWhen(created.id, (r) => r.broadcast_at !== null, 'the broadcast');
    expect(row).toMatchObject({
      fallback_reason: 'priority_unavailable',
      current_tier: null,
      priority_notified_at: null,
    });
    expect(outcomes(row)).toEqual([
      [1, 'skipped_unavailable'],
      [2, 'skipped_unavailable'],
    ]);
    expect(await notificationsOf(world, created.id, `notify.mechanic.${a}`)).toEqual([]);
  });

  it('records a favorite who is no longer approved as skipped_not_approved', async () => {
    const suspended = await addMechanic(world.db, 'suspended');
    const [next] = await threeFavorites();
    const created = await book([
      [suspended, 5],
      [next, 50],
    ]);
    const row = await requestWhen(created.id, (r) => r.current_tier === 2, 'tier 2');
    expect(outcomes(row)).toEqual([
      [1, 'skipped_not_approved'],
      [2, null],
    ]);
  });

  it('withdraws the open tier when the customer cancels, telling its mechanic', async () => {
    const [first] = await threeFavorites();
    const created = await book([[first, 50]]);
    await requestWhen(created.id, (r) => r.current_tier === 1, 'tier 1');
    const reply = await command(world, 'cancel', { request_id: created.id, customer_id: customer });
    expect(reply).toMatchObject({ ok: true, request: { status: 'cancelled', current_tier: null } });
    expect(outcomes(await getRequest(world.db, created.id))).toEqual([[1, 'withdrawn']]);
    const toFirst = await eventually(async () => {
      const n = await notificationsOf(world, created.id, `notify.mechanic.${first}`);
      return n.length === 2 && n.map((f) => f.data.type);
    });
    expect(toFirst).toEqual(['priority_session_request', 'request_cancelled']);
  });

  it('broadcasts with flag_disabled and offers nothing when the flag is off', async () => {
    const [first] = await threeFavorites();
    await setFlag(world.db, { is_enabled: false });
    try {
      await eventually(async () => {
        const r = await createRequest(world.db, {
          customerId: customer,
          tiers: [{ mechanicId: first, windowMinutes: 5 }],
        });
        const row = await requestWhen(r.id, (x) => x.broadcast_at !== null, 'the broadcast');
        return row.fallback_reason === 'flag_disabled' && row;
      });
    } finally {
      await setFlag(world.db, { is_enabled: true });
    }
  });
});

describe('an accept racing the end of its tier', () => {
  it('is refused when it waited on the row while the tier ended, though it was sent while the tier was open', async () => {
    const [first, second] = await threeFavorites();
    const created = await book([
      [first, 50],
      [second, 50],
    ]);
    await requestWhen(created.id, (r) => r.current_tier === 1, 'tier 1');
    // A step of the sweeper, played by hand: it holds the row while it ends tier 1 and opens tier 2.
    const step = new pg.Client({ connectionString: world.db.url });
    await step.connect();
    try {
      await step.query('begin');
      await step.query('select id from session_requests where id = $1 for update', [created.id]);
      const accepting = command(world, 'accept', { request_id: created.id, mechanic_id: first });
      await eventually(async () => {
        const { rows } = await step.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        return rows.length > 0;
      }, 10_000);
      await step.query(
        `update session_request_offers set outcome = 'timeout', ended_at = now() where request_id = $1 and tier = 1`,
        [created.id],
      );
      await step.query(
        `insert into session_request_offers (request_id, tier, mechanic_id, window_minutes, offered_at, expires_at)
         values ($1, 2, $2, 50, now(), now() + interval '5 seconds')`,
        [created.id, second],
      );
      await step.query('commit');
      expect(await accepting).toMatchObject({ ok: false, code: 'priority_window_active' });
    } finally {
      await step.end();
    }
    const row = await getRequest(world.db, created.id);
    expect(row).toMatchObject({ status: 'pending', current_tier: 2 });
    expect(outcomes(row)).toEqual([
      [1, 'timeout'],
      [2, null],
    ]);
  });
});

describe('availability of a single preferred mechanic', () => {
  it('broadcasts at once with priority_unavailable, the skipped offer shown, when the favorite is away', async () => {
    const [away] = await threeFavorites();
    await setAvailability(world.db, away, { available: false });
    const created = await createRequest(world.db, { customerId: customer, preferredMechanicId: away });
    const row = await requestWhen(created.id, (r) => r.broadcast_at !== null, 'the broadcast');
    expect(row).toMatchObject({
      fallback_reason: 'priority_unavailable',
      priority_notified_at: null,
      current_tier: null,
    });
    expect(row.offers).toEqual([
      { mechanic_id: away, tier: 1, offered_at: null, expires_at: null, outcome: 'skipped_unavailable' },
    ]);
    expect(await notificationsOf(world, created.id, `notify.mechanic.${away}`)).toEqual([]);
  });

  it('with skip_offline_favorites, offers only to a favorite connected to a gateway in the last 60 s', async () => {
    const [online, offline] = await threeFavorites();
    const kv = await new Kvm(jetstream(world.nc)).create(natsNames(world.prefix).kv.presence, { ttl: 60_000 });
    await kv.put(
      presenceKey(online, 'gw-test'),
      JSON.stringify({
        mechanic_id: online,
        instance_id: 'gw-test',
        connections: 1,
        updated_at: new Date().toISOString(),
      }),
    );
    await world.db.query('update priority_settings set skip_offline_favorites = true');
    try {
      const offered = await createRequest(world.db, { customerId: customer, preferredMechanicId: online });
      const open = await requestWhen(offered.id, (r) => r.current_tier === 1, 'the offer');
      expect(open.offers[0]).toMatchObject({ mechanic_id: online, outcome: null });
      const skipped = await createRequest(world.db, { customerId: customer, preferredMechanicId: offline });
      const row = await requestWhen(skipped.id, (r) => r.broadcast_at !== null, 'the broadcast');
      expect(row.fallback_reason).toBe('priority_unavailable');
    } finally {
      await world.db.query('update priority_settings set skip_offline_favorites = false');
    }
  });
});
