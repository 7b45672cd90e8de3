import { natsNames } from '@dibs/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  createRequest,
  createWorld,
  destroyWorld,
  ms,
  setFlag,
  startRouting,
  type World,
} from './support/fixture.js';
import { type PrivateNats, startPrivateNats } from './support/nats-servers.js';
import { expectFiredOnce, openWindows, RELAY_BOUND_MS, settledEvents, untilRequest } from './support/stored-events.js';

// A single nats-server (what docker-compose runs) crashing and coming back on its store while
// priority windows are open and customers keep booking. faults-infra.test.ts stops the server
// cleanly around one window; here it is killed with SIGKILL with several windows open, stays down
// past the first deadline, and requests are booked while it is down.

const MINUTE_MS = 100;
/** Window lengths in window minutes (2 s to 10 s): deadlines while the server is down and after it is back. */
const WINDOWS = [20, 30, 45, 70, 100];

let nats: PrivateNats;
let world: World;
let people: { customer: string; favorite: string };

beforeAll(async () => {
  nats = await startPrivateNats();
  world = await createWorld('restart', [nats.url]);
  people = { customer: await addCustomer(world.db), favorite: await addMechanic(world.db) };
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  try {
    if (world) await destroyWorld(world);
  } finally {
    await nats?.destroy();
  }
});

describe('a single nats-server restarted mid-window', () => {
  it('fires every open window once, on time, and routes what was booked while it was down once', async () => {
    await startRouting(world, { PRIORITY_MINUTE_MS: MINUTE_MS });
    const windows = await openWindows(world, people, WINDOWS);

    await nats.kill();
    // Booked while the server is down: intake's publish fails, its outbox relay publishes later.
    const booking = Promise.all(
      [0, 1, 2].map(() =>
        createRequest(world.db, {
          customerId: people.customer,
          preferredMechanicId: people.favorite,
          windowMinutes: 20,
        }),
      ),
    );
    // Windows end from PostgreSQL: the first one fires while NATS is still down.
    await untilRequest(world, windows[0]!.id, 'broadcast');
    expect(nats.running()).toBe(false);
    await nats.start();
    const backAt = Date.now();
    expect(Date.now()).toBeLessThan(ms(windows.at(-1)!.priority_expires_at));

    const booked = await booking;
    const offered = await Promise.all(booked.map((r) => untilRequest(world, r.id, 'offered')));
    const waits = offered.map((o) => ms(o.priority_notified_at) - Math.max(ms(o.created_at), backAt));
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(RELAY_BOUND_MS);
    const all = [...windows, ...booked];
    for (const r of all) await untilRequest(world, r.id, 'broadcast');
    const events = await settledEvents(
      world,
      all.map((r) => r.id),
    );
    // Each request offered once and broadcast once; each broadcast stored once, within the bound.
    const lateness = await expectFiredOnce(world, all, events, backAt);

    const names = natsNames(world.prefix);
    const consumer = await (await jetstreamManager(world.nc)).consumers.info(
      names.streams.events,
      names.consumers.routingCreated,
    );
    console.info(
      `[nats-server killed and restarted] lateness in PostgreSQL ${lateness.db.join('/')} ms, in the stream ` +
        `${lateness.stream.join('/')} ms; booked while down, offered ${waits.join('/')} ms after the restart; ` +
        `${consumer.num_redelivered} created messages redelivered`,
    );
  });
});
