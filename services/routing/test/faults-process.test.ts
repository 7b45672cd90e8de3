import { eventually, outboxDrained, serviceEnv } from '@dibs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  createdSettled,
  createRequest,
  createWorld,
  destroyWorld,
  eventsOf,
  getRequest,
  ms,
  notificationsOf,
  setFlag,
  type World,
} from './support/fixture.js';
import { builtScript, type Child, spawnNode } from './support/processes.js';
import { DB_LATENESS_MS } from './support/stored-events.js';

// Routing as real processes, killed with SIGKILL: no ack, no cleanup. The window lives in the
// row's stored deadline, so whichever replica is alive afterwards fires it once, on time.

const MINUTE_MS = 100;

let world: World;
let customer: string;
let favorite: string;
const children: Child[] = [];

function routingProcess(extra: Record<string, string> = {}, script = 'dist/main.js'): Child {
  const child = spawnNode(
    builtScript(script),
    serviceEnv(world.db, world.prefix, {
      LOG_LEVEL: 'info',
      ROUTING_PORT: '0',
      PRIORITY_MINUTE_MS: String(MINUTE_MS),
      ...extra,
    }),
  );
  children.push(child);
  return child;
}

async function started(child: Child): Promise<Child> {
  await child.waitForLog('routing started');
  return child;
}

beforeAll(async () => {
  world = await createWorld('kill');
  customer = await addCustomer(world.db);
  favorite = await addMechanic(world.db);
  await setFlag(world.db, { is_enabled: true });
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.kill('SIGTERM');
});
afterAll(async () => {
  await destroyWorld(world);
});

async function offered(id: string) {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return r.priority_notified_at !== null && r;
    },
    20_000,
    'the priority offer',
  );
}

async function broadcast(id: string) {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return r.broadcast_at !== null && r;
    },
    30_000,
    'the fallback broadcast',
  );
}

/** Exactly one broadcast event and one new_request notification reached NATS (waits until all committed is published). */
async function expectBroadcastOnce(id: string): Promise<void> {
  await outboxDrained(world.db, id, 20_000);
  expect(await eventsOf(world, id, 'broadcast')).toHaveLength(1);
  expect(await notificationsOf(world, id, 'notify.mechanics')).toHaveLength(1);
}

function lateness(row: { broadcast_at: string | null; priority_expires_at: string | null }): number {
  return ms(row.broadcast_at) - ms(row.priority_expires_at);
}

/** The contract for a window that ended while a replica was up: at its deadline, at most 1 s late. */
function expectOnTime(row: { broadcast_at: string | null; priority_expires_at: string | null }): void {
  expect(lateness(row)).toBeGreaterThanOrEqual(0);
  expect(lateness(row)).toBeLessThanOrEqual(DB_LATENESS_MS);
}

describe('kill -9 of routing mid-window', () => {
  it('another replica broadcasts at the deadline, not before', async () => {
    const a = await started(routingProcess());
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 40,
    });
    await offered(created.id);
    const b = await started(routingProcess());
    await a.kill('SIGKILL');
    const row = await broadcast(created.id);
    expect(row.fallback_reason).toBe('priority_timeout');
    // b was up before a died: a replica was up throughout.
    expectOnTime(row);
    console.info(`[kill -9, other replica] lateness ${lateness(row)} ms`);
    await expectBroadcastOnce(created.id);
    expect(b.process.exitCode).toBeNull();
  });

  it('the restarted replica broadcasts at the deadline, not before', async () => {
    const a = await started(routingProcess());
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 40,
    });
    const offer = await offered(created.id);
    await a.kill('SIGKILL');
    await started(routingProcess());
    // Back before the deadline (4 s after the offer): the bound holds across the restart.
    expect(Date.now()).toBeLessThan(ms(offer.priority_expires_at));
    const row = await broadcast(created.id);
    expect(row.fallback_reason).toBe('priority_timeout');
    expectOnTime(row);
    console.info(`[kill -9, restarted] lateness ${lateness(row)} ms`);
    await expectBroadcastOnce(created.id);
  });
});

describe('killed between the DB commit and the ack', () => {
  it('a broadcast committed by a replica that died before acking is published once and never repeated', async () => {
    const crasher = await started(
      routingProcess({ CRASH_AFTER: 'broadcast', ROUTING_ACK_WAIT_MS: '2000' }, 'test/fixtures/crash-after-commit.mjs'),
    );
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 10,
    });
    await offered(created.id);
    expect(await crasher.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const row = await getRequest(world.db, created.id);
    expect(row.broadcast_at).not.toBeNull();
    // The crasher was up until it had committed the broadcast.
    expectOnTime(row);

    // The survivor publishes the committed outbox rows, and gets the unacked message back after
    // ack_wait: it finds the request broadcast and only acknowledges.
    await started(routingProcess({ ROUTING_ACK_WAIT_MS: '2000' }));
    await createdSettled(world, 30_000);
    await expectBroadcastOnce(created.id);
    expect((await getRequest(world.db, created.id)).broadcast_at).toBe(row.broadcast_at);
  });

  it('a priority offer committed by a replica that died before its ack opens one window, fired once', async () => {
    const crasher = await started(
      routingProcess(
        { CRASH_AFTER: 'priority_notified', ROUTING_ACK_WAIT_MS: '2000' },
        'test/fixtures/crash-after-commit.mjs',
      ),
    );
    const created = await createRequest(world.db, {
      customerId: customer,
      preferredMechanicId: favorite,
      windowMinutes: 30,
    });
    expect(await crasher.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const first = await offered(created.id);
    await started(routingProcess({ ROUTING_ACK_WAIT_MS: '2000' }));
    const row = await broadcast(created.id);
    expect(row.priority_notified_at).toBe(first.priority_notified_at);
    expect(lateness(row)).toBeGreaterThanOrEqual(0);
    await expectBroadcastOnce(created.id);
    expect(await eventsOf(world, created.id, 'priority_notified')).toHaveLength(1);
    expect(await notificationsOf(world, created.id, `notify.mechanic.${favorite}`)).toHaveLength(1);
  });
});
