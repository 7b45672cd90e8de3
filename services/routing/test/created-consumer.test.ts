import { randomUUID } from 'node:crypto';
import { natsNames } from '@dibs/contracts';
import { requestEvent } from '@dibs/db';
import { eventually, outboxDrained } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Routing } from '../src/app.js';
import {
  addCustomer,
  addMechanic,
  createRequest,
  createWorld,
  destroyWorld,
  eventsOf,
  getRequest,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';

// The created consumer against bad input and repeats, and the probes that watch it.
let world: World;
let routing: Routing;
let customer: string;
let favorite: string;

beforeAll(async () => {
  world = await createWorld('cons');
  routing = await startRouting(world, { PRIORITY_MINUTE_MS: 100 });
  customer = await addCustomer(world.db);
  favorite = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

async function consumerInfo() {
  const names = natsNames(world.prefix);
  const jsm = await jetstreamManager(world.nc);
  return jsm.consumers.info(names.streams.events, names.consumers.routingCreated);
}

async function metric(name: string): Promise<number> {
  const res = await routing.app.inject({ method: 'GET', url: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

describe('malformed and unknown-version messages', () => {
  it('terminates them (never redelivered) and keeps consuming', async () => {
    const js = jetstream(world.nc);
    const subject = natsNames(world.prefix).subjects.event('created');
    const before = await metric('routing_messages_terminated_total');
    const stray = await createRequest(world.db, { customerId: customer }); // its valid event follows the junk
    const v2 = { ...(requestEvent('created', stray).payload as object), v: 2 };
    await js.publish(subject, 'this is not json');
    await js.publish(subject, JSON.stringify({ hello: 'world' }));
    await js.publish(subject, JSON.stringify(v2));
    const last = await js.publish(
      subject,
      JSON.stringify({ ...(requestEvent('created', stray).payload as object), request: { id: 'x' } }),
    );

    // The valid event queued behind them is still routed…
    await eventually(async () => (await getRequest(world.db, stray.id)).broadcast_at !== null, 10_000);
    // …and the four bad ones are gone for good: terminated, not waiting for a redelivery.
    await eventually(async () => (await metric('routing_messages_terminated_total')) - (before || 0) === 4, 10_000);
    // The ack floor passes a message only once it is done with (acked or terminated); one handed
    // back for a retry would hold it below the last of the four.
    await eventually(async () => (await consumerInfo()).ack_floor.stream_seq >= last.seq, 10_000);
    expect((await consumerInfo()).num_redelivered).toBe(0);
    const another = await createRequest(world.db, { customerId: customer });
    await eventually(async () => (await getRequest(world.db, another.id)).broadcast_at !== null, 10_000);
  });
});

describe('repeated and stray created events', () => {
  it('opens one window however often the created event of a request arrives', async () => {
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 20,
    });
    const subject = natsNames(world.prefix).subjects.event('created');
    const js = jetstream(world.nc);
    // Copies under new message ids: the duplicate window cannot drop them, routing must.
    let last = 0;
    for (let i = 0; i < 3; i++) {
      last = (await js.publish(subject, JSON.stringify(requestEvent('created', created).payload))).seq;
    }
    await eventually(async () => (await getRequest(world.db, created.id)).broadcast_at !== null, 15_000);
    // Every copy handled (acknowledged), and every event routing committed about it in the stream.
    await eventually(async () => (await consumerInfo()).ack_floor.stream_seq >= last, 10_000);
    await outboxDrained(world.db, created.id);
    expect(await eventsOf(world, created.id, 'priority_notified')).toHaveLength(1);
    expect(await eventsOf(world, created.id, 'broadcast')).toHaveLength(1);
  });

  it('acknowledges the event of a request that no longer exists', async () => {
    const ghost = await createRequest(world.db, { customerId: customer });
    await world.db.query('delete from intake_outbox where payload @> $1::jsonb', [
      JSON.stringify({ request: { id: ghost.id } }),
    ]);
    await world.db.query('delete from session_requests where id = $1', [ghost.id]);
    const before = {
      retries: await metric('routing_message_retries_total'),
      terminated: await metric('routing_messages_terminated_total'),
      info: await consumerInfo(),
    };
    const id = randomUUID();
    const event = requestEvent('created', { ...ghost, id });
    const ack = await jetstream(world.nc).publish(
      natsNames(world.prefix).subjects.event('created'),
      JSON.stringify(event.payload),
    );
    // Acknowledged: the ack floor passes it, and it was neither handed back for a retry nor
    // terminated as malformed (it is a valid event, about a request that is gone).
    await eventually(async () => (await consumerInfo()).ack_floor.stream_seq >= ack.seq, 10_000, 'its ack');
    const after = await consumerInfo();
    expect(after.num_ack_pending).toBe(0);
    expect(after.num_redelivered).toBe(before.info.num_redelivered);
    expect(await metric('routing_message_retries_total')).toBe(before.retries);
    expect(await metric('routing_messages_terminated_total')).toBe(before.terminated);
    // Nothing was made of it.
    const { rows } = await world.db.query('select 1 from session_requests where id = $1', [id]);
    expect(rows).toEqual([]);
  });
});

describe('an open window', () => {
  it('holds no message: the created event is acknowledged once the window is open', async () => {
    const open = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 600,
    });
    await eventually(async () => (await getRequest(world.db, open.id)).priority_notified_at !== null, 10_000);
    // The window (a minute of 100 ms: 60 s) is open, and nothing waits in JetStream for it.
    await eventually(async () => {
      const info = await consumerInfo();
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, 10_000);
    expect((await getRequest(world.db, open.id)).broadcast_at).toBeNull();
  });
});

describe('probes and metrics', () => {
  it('answers /healthz, /readyz and /metrics with routing gauges', async () => {
    expect((await routing.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await routing.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { nats: 'ok', db: 'ok' } });

    const open = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 600,
    });
    await eventually(async () => (await getRequest(world.db, open.id)).priority_notified_at !== null, 10_000);
    expect(await metric('routing_open_windows')).toBeGreaterThanOrEqual(1);
    const body = (await routing.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toMatch(/routing_decisions_total\{outcome="priority_offered"/);
    expect(body).toMatch(/routing_window_lateness_seconds_bucket\{[^}]*via="(redelivery|sweeper)"/);
    expect(body).toContain('routing_outbox_backlog');
  });
});
