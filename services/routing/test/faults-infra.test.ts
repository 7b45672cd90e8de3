import { natsNames } from '@dibs/contracts';
import { eventually, outboxDrained, startTcpProxy, type TcpProxy, withDatabase } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  createRequest,
  createWorld,
  destroyWorld,
  getRequest,
  ms,
  readStream,
  setFlag,
  sleep,
  startRouting,
  stopRouting,
  type World,
} from './support/fixture.js';
import { type PrivateNats, startPrivateNats } from './support/nats-servers.js';
import { DB_LATENESS_MS } from './support/stored-events.js';

// NATS and PostgreSQL going away under routing. NATS: a private nats-server this file restarts
// (never the shared one). PostgreSQL: a TCP proxy between routing and the database that the test cuts.
const MINUTE_MS = 100;

let world: World;
let customer: string;
let favorite: string;

beforeAll(async () => {
  world = await createWorld('infra');
  customer = await addCustomer(world.db);
  favorite = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterAll(async () => {
  await destroyWorld(world);
});

/** Resolves when `nc` notices its server is gone (subscribe before taking the server away). */
async function disconnected(nc: NatsConnection): Promise<void> {
  for await (const s of nc.status()) if (s.type === 'disconnect') return;
}

async function until(id: string, what: 'offered' | 'broadcast', timeoutMs = 30_000) {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return (what === 'offered' ? r.priority_notified_at : r.broadcast_at) !== null && r;
    },
    timeoutMs,
    `${what} ${id}`,
  );
}

/** Messages about one request stored in a stream of `nc`'s server. */
async function stored(nc: NatsConnection, stream: string, subject: string, requestId: string) {
  const all = await readStream(nc, stream, subject);
  return all.filter((m) => {
    const d = m.data as { request?: { id?: string }; request_id?: string };
    return d.request?.id === requestId || d.request_id === requestId;
  });
}

describe('nats-server restarted mid-window', () => {
  let nats: PrivateNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startPrivateNats();
  });
  afterAll(async () => {
    await nc?.close();
    await nats.destroy();
  });

  it('fires the window once, at its deadline, when the server is back in time; then keeps routing', async () => {
    const routing = await startRouting(world, { NATS_URL: [nats.url], PRIORITY_MINUTE_MS: MINUTE_MS });
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const names = natsNames(world.prefix);

    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 40,
    });
    const offer = await until(created.id, 'offered');
    // Down until routing has noticed (its connection lost), then back.
    const lost = disconnected(routing.nc);
    await nats.stop();
    await lost;
    await nats.start();
    expect(Date.now()).toBeLessThan(ms(offer.priority_expires_at));

    const row = await until(created.id, 'broadcast');
    const lateness = ms(row.broadcast_at) - ms(row.priority_expires_at);
    console.info(`[nats restart, back before the deadline] lateness ${lateness} ms`);
    // Routing was up throughout: the contract's bound holds (ARCHITECTURE.md: deadline + 1 s).
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(DB_LATENESS_MS);
    expect(row.fallback_reason).toBe('priority_timeout');
    await outboxDrained(world.db, created.id, 20_000);
    // Stored once each (the broadcast event carries the mechanics' new_request).
    expect(await stored(nc, names.streams.events, names.subjects.event('broadcast'), created.id)).toHaveLength(1);
    expect(await stored(nc, names.streams.events, names.subjects.event('priority_notified'), created.id)).toHaveLength(
      1,
    );

    // The consumer survived the restart: a new request is still routed.
    const next = await createRequest(world.db, { customerId: customer });
    await until(next.id, 'broadcast', 20_000);
    await stopRouting(world, routing);
  });

  it('broadcasts on time while the server is down across the deadline, and publishes once it is back', async () => {
    const routing = await startRouting(world, { NATS_URL: [nats.url], PRIORITY_MINUTE_MS: MINUTE_MS });
    const names = natsNames(world.prefix);
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 15,
    });
    const offer = await until(created.id, 'offered');
    await nats.stop();
    const row = await until(created.id, 'broadcast');
    const lateness = ms(row.broadcast_at) - ms(offer.priority_expires_at);
    console.info(`[nats down across the deadline] lateness ${lateness} ms`);
    // Routing was up throughout (only NATS was not): the window ends from PostgreSQL, on time.
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(DB_LATENESS_MS);
    // Committed while NATS is down: its events wait in the outbox until the server is back.
    const { rows: waiting } = await world.db.query(
      `select subject from outbox where payload->'request'->>'id' = $1 and subject like '%.broadcast'`,
      [created.id],
    );
    expect(waiting).toHaveLength(1);
    await nats.start();
    await outboxDrained(world.db, created.id, 20_000);
    expect(await stored(nc, names.streams.events, names.subjects.event('broadcast'), created.id)).toHaveLength(1);
    await stopRouting(world, routing);
  });
});

describe('PostgreSQL unreachable for a while', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    const target = new URL(world.db.url);
    proxy = await startTcpProxy(`${target.hostname}:${target.port || 5432}`);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('redelivers what arrives meanwhile and decides each request once when the database is back', async () => {
    const viaProxy = new URL(world.db.url);
    viaProxy.host = proxy.address;
    await startRouting(world, {
      DATABASE_URL: withDatabase(viaProxy.toString(), world.db.name),
      PRIORITY_MINUTE_MS: MINUTE_MS,
    });
    const names = natsNames(world.prefix);

    // A window opens, then the database goes away for longer than the window.
    const open = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 10,
    });
    const offer = await until(open.id, 'offered');
    proxy.cut();

    // Meanwhile a new request is created: stored (intake's own connection works) and published,
    // exactly as intake's relay would, with the outbox id as message id.
    const fresh = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 600,
    });
    const { rows } = await world.db.query(
      `select id, payload from intake_outbox where payload->'request'->>'id' = $1`,
      [fresh.id],
    );
    await jetstream(world.nc).publish(names.subjects.event('created'), JSON.stringify(rows[0].payload), {
      msgID: rows[0].id,
    });

    // Routing keeps handing the new request's created message back while it cannot decide it.
    const jsm = await jetstreamManager(world.nc);
    const consumer = () => jsm.consumers.info(names.streams.events, names.consumers.routingCreated);
    await eventually(async () => (await consumer()).num_redelivered > 0, 10_000, 'a redelivery');
    // The outage spans the deadline: a fixed wait, to show nothing fires while routing cannot
    // reach the database (its sweeper looks at least every 250 ms, so 300 ms past the deadline).
    await sleep(Math.max(0, ms(offer.priority_expires_at) - Date.now()) + 300);
    expect((await getRequest(world.db, open.id)).broadcast_at).toBeNull();
    expect((await getRequest(world.db, fresh.id)).priority_notified_at).toBeNull();

    proxy.restore();
    const late = await until(open.id, 'broadcast');
    expect(late.fallback_reason).toBe('priority_timeout');
    await until(fresh.id, 'offered');

    // Each decided once: one window per request, one broadcast, whatever was retried.
    await outboxDrained(world.db, open.id, 20_000);
    await outboxDrained(world.db, fresh.id, 20_000);
    const count = async (kind: 'priority_notified' | 'broadcast', id: string) =>
      (await readStream(world.nc, names.streams.events, names.subjects.event(kind))).filter(
        (m) => (m.data.request as { id: string }).id === id,
      ).length;
    expect(await count('priority_notified', open.id)).toBe(1);
    expect(await count('broadcast', open.id)).toBe(1);
    expect(await count('priority_notified', fresh.id)).toBe(1);
    expect(await count('broadcast', fresh.id)).toBe(0);
  });
});
