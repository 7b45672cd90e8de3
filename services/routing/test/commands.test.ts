import { randomUUID } from 'node:crypto';
import { eventually, outboxDrained } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Routing } from '../src/app.js';
import {
  addCustomer,
  addMechanic,
  command,
  createRequest,
  createWorld,
  destroyWorld,
  eventKinds,
  eventsOf,
  getRequest,
  ms,
  notificationsOf,
  setFlag,
  startRouting,
  stopRouting,
  type World,
} from './support/fixture.js';

// accept / decline / cancel over request-reply, as intake's HTTP routes and the gateway send them.
const MINUTE_MS = 100;

let world: World;
let customer: string;
let favorite: string;

beforeAll(async () => {
  world = await createWorld('cmd');
  await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
  customer = await addCustomer(world.db, 'Grace Hopper');
  favorite = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

/** A request whose priority window is open (600 "minutes" of 100 ms: a minute of wall time). */
async function openWindow(windowMinutes = 600) {
  const created = await createRequest(world.db, { customerId: customer, preferredMechanicId: favorite, windowMinutes });
  return eventually(
    async () => {
      const r = await getRequest(world.db, created.id);
      return r.priority_notified_at !== null && r;
    },
    10_000,
    'the priority offer',
  );
}

/** Cancel commands `routing` has answered (its routing_commands_total), whatever the result. */
async function answered(routing: Routing): Promise<number> {
  const body = (await routing.app.inject({ method: 'GET', url: '/metrics' })).body;
  return body
    .split('\n')
    .filter((l) => l.startsWith('routing_commands_total{') && l.includes('command="cancel"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function broadcastRequest() {
  const created = await createRequest(world.db, { customerId: customer });
  return eventually(
    async () => {
      const r = await getRequest(world.db, created.id);
      return r.broadcast_at !== null && r;
    },
    10_000,
    'the broadcast',
  );
}

describe('accept', () => {
  it('keeps other mechanics out of an open window (409 priority_window_active)', async () => {
    const other = await addMechanic(world.db);
    const r = await openWindow();
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: other })).toMatchObject({
      ok: false,
      code: 'priority_window_active',
    });
    expect((await getRequest(world.db, r.id)).status).toBe('pending');
  });

  it('answers already_taken to a late accept, and the winner again with its request', async () => {
    const [a, b] = [await addMechanic(world.db), await addMechanic(world.db)];
    const r = await broadcastRequest();
    const first = await command(world, 'accept', { request_id: r.id, mechanic_id: a });
    expect(first).toMatchObject({ ok: true, request: { status: 'accepted', mechanic_id: a } });
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: b })).toMatchObject({
      ok: false,
      code: 'already_taken',
    });
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: a })).toEqual(first);
    await eventually(async () => (await eventsOf(world, r.id, 'accepted')).length === 1);
    const accepted = await eventsOf(world, r.id, 'accepted');
    expect(accepted[0]).toMatchObject({ actor_mechanic_id: a, request: { status: 'accepted', mechanic_id: a } });
  });

  it('refuses unapproved mechanics (403 mechanic_not_approved) and unknown requests (404)', async () => {
    const r = await broadcastRequest();
    for (const status of ['pending', 'suspended'] as const) {
      const m = await addMechanic(world.db, status);
      expect(await command(world, 'accept', { request_id: r.id, mechanic_id: m })).toMatchObject({
        ok: false,
        code: 'mechanic_not_approved',
      });
    }
    expect(await command(world, 'accept', { request_id: randomUUID(), mechanic_id: favorite })).toMatchObject({
      ok: false,
      code: 'not_found',
    });
  });

  it('answers invalid_command to a malformed command', async () => {
    expect(await command(world, 'accept', { request_id: 'nope', mechanic_id: favorite })).toMatchObject({
      ok: false,
      code: 'invalid_command',
    });
  });

  it('never records an accept before the broadcast it follows (stored times keep the order of the changes)', async () => {
    // The accept reads its clock before its statement sees the row. A broadcast stamped later
    // than that reading (committed meanwhile, or by a replica whose clock runs ahead) must not end
    // up after the accept it enabled, or analytics would see a non-favorite accepting inside the
    // window. Here the broadcast carries a time one second ahead of the accept's clock.
    const other = await addMechanic(world.db);
    const r = await openWindow();
    await world.db.query(
      `update session_requests set broadcast_at = clock_timestamp() + interval '1 second',
         fallback_reason = 'priority_timeout' where id = $1`,
      [r.id],
    );
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: other })).toMatchObject({
      ok: true,
      request: { mechanic_id: other },
    });
    const row = await getRequest(world.db, r.id);
    expect(ms(row.accepted_at)).toBeGreaterThanOrEqual(ms(row.broadcast_at));
    const accepted = await eventually(async () => (await eventsOf(world, r.id, 'accepted'))[0]);
    expect(accepted.occurred_at).toBe(row.accepted_at);
  });

  it('never records a cancellation before the change it follows', async () => {
    const r = await openWindow();
    await world.db.query(
      `update session_requests set broadcast_at = clock_timestamp() + interval '1 second',
         fallback_reason = 'priority_timeout' where id = $1`,
      [r.id],
    );
    expect(await command(world, 'cancel', { request_id: r.id, customer_id: customer })).toMatchObject({ ok: true });
    const row = await getRequest(world.db, r.id);
    expect(ms(row.cancelled_at)).toBeGreaterThanOrEqual(ms(row.broadcast_at));
  });

  it('lets exactly one of 50 mechanics accepting at once win', async () => {
    const mechanics = await Promise.all(Array.from({ length: 50 }, () => addMechanic(world.db)));
    const r = await broadcastRequest();
    const replies = await Promise.all(
      mechanics.map((m) => command(world, 'accept', { request_id: r.id, mechanic_id: m })),
    );
    const winners = replies.filter((x) => x.ok);
    expect(winners).toHaveLength(1);
    expect(replies.filter((x) => !x.ok && x.code === 'already_taken')).toHaveLength(49);
    const row = await getRequest(world.db, r.id);
    expect(winners[0]).toMatchObject({ request: { mechanic_id: row.mechanic_id } });
    // Every reply is in, so whatever the 50 committed is in the outbox; once it has all reached
    // the stream, the stream shows whether a loser wrote an accepted event too.
    await outboxDrained(world.db, r.id);
    expect(await eventsOf(world, r.id, 'accepted')).toHaveLength(1);
    const taken = await notificationsOf(world, r.id, 'notify.mechanics');
    expect(taken.filter((n) => n.data.type === 'request_taken')).toHaveLength(1);
  });

  it('routes a request whose created event has not arrived yet, then decides', async () => {
    // Stored without a created event: the accept itself must route it (to everyone here).
    const { rows } = await world.db.query(
      `insert into session_requests (customer_id, customer_name, session_type, plan_code) values ($1, 'Grace Hopper', 'video', 'basic') returning id`,
      [customer],
    );
    const m = await addMechanic(world.db);
    expect(await command(world, 'accept', { request_id: rows[0].id, mechanic_id: m })).toMatchObject({
      ok: true,
      request: { status: 'accepted', mechanic_id: m, fallback_reason: null },
    });
    const row = await getRequest(world.db, rows[0].id);
    expect(row.broadcast_at).not.toBeNull();
  });
});

describe('decline', () => {
  it('ends the window at once when the preferred mechanic declines, and never offers it to them again', async () => {
    const r = await openWindow();
    const reply = await command(world, 'decline', { request_id: r.id, mechanic_id: favorite });
    expect(reply).toMatchObject({ ok: true, request: { fallback_reason: 'priority_declined', status: 'pending' } });
    const row = await getRequest(world.db, r.id);
    expect(row.fallback_reason).toBe('priority_declined');
    expect(ms(row.broadcast_at)).toBeLessThan(ms(row.priority_expires_at));
    const { rows } = await world.db.query('select mechanic_id from session_request_declines where request_id = $1', [
      r.id,
    ]);
    expect(rows).toEqual([{ mechanic_id: favorite }]);

    await eventually(async () => (await eventKinds(world, r.id)).length === 4);
    expect(await eventKinds(world, r.id)).toEqual(['created', 'priority_notified', 'declined', 'broadcast']);
    expect((await eventsOf(world, r.id, 'declined'))[0]).toMatchObject({ actor_mechanic_id: favorite });
    const offers = await eventually(async () => {
      const n = await notificationsOf(world, r.id, 'notify.mechanics');
      return n.length > 0 && n;
    });
    expect(offers[0]?.data).toMatchObject({ type: 'new_request', fallback_reason: 'priority_declined' });
    expect(offers[0]?.exclude).toEqual([favorite]);

    // Declining again changes nothing; accepting after declining is refused.
    expect(await command(world, 'decline', { request_id: r.id, mechanic_id: favorite })).toMatchObject({ ok: true });
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: favorite })).toMatchObject({
      ok: false,
      code: 'forbidden',
    });
    expect(await eventsOf(world, r.id, 'declined')).toHaveLength(1);
  });

  it('records a decline after the broadcast, without a second broadcast', async () => {
    const m = await addMechanic(world.db);
    const r = await broadcastRequest();
    expect(await command(world, 'decline', { request_id: r.id, mechanic_id: m })).toMatchObject({ ok: true });
    await eventually(async () => (await eventsOf(world, r.id, 'declined')).length === 1);
    expect(await eventsOf(world, r.id, 'broadcast')).toHaveLength(1);
    expect(await command(world, 'accept', { request_id: r.id, mechanic_id: m })).toMatchObject({ code: 'forbidden' });
  });

  it('refuses a decline of an accepted request', async () => {
    const [a, b] = [await addMechanic(world.db), await addMechanic(world.db)];
    const r = await broadcastRequest();
    await command(world, 'accept', { request_id: r.id, mechanic_id: a });
    expect(await command(world, 'decline', { request_id: r.id, mechanic_id: b })).toMatchObject({
      code: 'already_taken',
    });
  });
});

describe('cancel', () => {
  it('cancels a request inside its window and tells the preferred mechanic and the customer', async () => {
    const r = await openWindow();
    const reply = await command(world, 'cancel', { request_id: r.id, customer_id: customer });
    expect(reply).toMatchObject({ ok: true, request: { status: 'cancelled' } });
    const row = await getRequest(world.db, r.id);
    expect(row.status).toBe('cancelled');
    expect(row.cancelled_at).not.toBeNull();
    const toFavorite = await eventually(async () => {
      const n = await notificationsOf(world, r.id, `notify.mechanic.${favorite}`);
      return n.length === 2 && n;
    });
    expect(toFavorite[1]?.data).toMatchObject({ type: 'request_cancelled', request_id: r.id });
    const updates = await eventually(async () => {
      const n = await notificationsOf(world, r.id, `notify.customer.${customer}`);
      return n.length === 2 && n;
    });
    expect(updates[1]?.data).toMatchObject({ request: { status: 'cancelled' } });
    expect(await notificationsOf(world, r.id, 'notify.mechanics')).toEqual([]);

    // Twice is fine (200, same request); the window it had never broadcasts.
    expect(await command(world, 'cancel', { request_id: r.id, customer_id: customer })).toMatchObject({
      ok: true,
      request: { status: 'cancelled', cancelled_at: row.cancelled_at },
    });
    expect(await eventsOf(world, r.id, 'cancelled')).toHaveLength(1);
  });

  it('tells every mechanic when a broadcast request is cancelled', async () => {
    const r = await broadcastRequest();
    await command(world, 'cancel', { request_id: r.id, customer_id: customer });
    const n = await eventually(async () => {
      const all = await notificationsOf(world, r.id, 'notify.mechanics');
      return all.length === 2 && all;
    });
    expect(n[1]?.data).toMatchObject({ type: 'request_cancelled' });
  });

  it('refuses after an accept (409 already_accepted) and hides other customers’ requests (404)', async () => {
    const m = await addMechanic(world.db);
    const r = await broadcastRequest();
    await command(world, 'accept', { request_id: r.id, mechanic_id: m });
    expect(await command(world, 'cancel', { request_id: r.id, customer_id: customer })).toMatchObject({
      ok: false,
      code: 'already_accepted',
    });
    const stranger = await addCustomer(world.db, 'Stranger');
    const mine = await broadcastRequest();
    expect(await command(world, 'cancel', { request_id: mine.id, customer_id: stranger })).toMatchObject({
      ok: false,
      code: 'not_found',
    });
    expect((await getRequest(world.db, mine.id)).status).toBe('pending');
  });

  it('serves commands in the shared routing queue group: with two replicas each is answered by exactly one', async () => {
    // Every replica subscribes to the command subjects; only the shared queue group makes NATS
    // hand each command to one of them. Each replica counts what it answered in its own registry.
    const first = world.routings[0]!;
    const second = await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
    const before = await Promise.all([answered(first), answered(second)]);
    const r = await broadcastRequest();
    const N = 40;
    const replies = await Promise.all(
      Array.from({ length: N }, () => command(world, 'cancel', { request_id: r.id, customer_id: customer })),
    );
    expect(replies.every((x) => x.ok)).toBe(true);
    // A replica counts a command before it answers it, so every count is in by now.
    const handled = (await Promise.all([answered(first), answered(second)])).map((n, i) => n - before[i]!);
    expect(handled[0]! + handled[1]!).toBe(N);
    // Both replicas took part (one of them answering all 40 by chance: 2 in 2^40).
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
    expect(await eventsOf(world, r.id, 'cancelled')).toHaveLength(1);
    await stopRouting(world, second);
  });
});

describe('the price of an accepted request (CONTRACT §7)', () => {
  it('is its plan’s price at the accept, stored on the row and carried by the accepted event; unknown plan: none', async () => {
    await world.db.query(
      `insert into plans (code, name, price_cents, currency) values ('basic', 'Basic', 4900, 'EUR')
       on conflict (code) do update set price_cents = 4900, currency = 'EUR'`,
    );
    const priced = await openWindow();
    // A price change after booking but before the accept: the accept takes the price in force.
    await world.db.query(`update plans set price_cents = 5900 where code = 'basic'`);
    expect(await command(world, 'accept', { request_id: priced.id, mechanic_id: favorite })).toMatchObject({
      ok: true,
    });
    const { rows } = await world.db.query('select price_cents, currency from session_requests where id = $1', [
      priced.id,
    ]);
    expect(rows[0]).toEqual({ price_cents: 5900, currency: 'EUR' });
    const accepted = await eventually(async () => (await eventsOf(world, priced.id, 'accepted'))[0]);
    expect(accepted.price).toEqual({ cents: 5900, currency: 'EUR' });

    await world.db.query(`delete from plans where code = 'basic'`);
    const unpriced = await openWindow();
    expect(await command(world, 'accept', { request_id: unpriced.id, mechanic_id: favorite })).toMatchObject({
      ok: true,
    });
    const event = await eventually(async () => (await eventsOf(world, unpriced.id, 'accepted'))[0]);
    expect(event.price).toBeNull();
  });
});
