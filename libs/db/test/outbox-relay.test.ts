import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { natsNames } from '@dibs/contracts';
import {
  createOutboxPublisher,
  createOutboxRelay,
  OUTBOX_TABLES,
  type OutboxOwner,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { provisionStreams } from '@dibs/nats';
import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  eventually,
  natsServers,
  startTcpProxy,
  type TestDatabase,
  testPrefix,
} from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const logger = createLogger({ service: 'relay-test', level: 'silent', pretty: false });
let db: TestDatabase;
let nc: NatsConnection;
let prefix: string;
let relays: OutboxRelay[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
  await db.drop();
});
beforeEach(async () => {
  prefix = testPrefix('ob');
  await provisionStreams(await jetstreamManager(nc), natsNames(prefix));
  await db.query('delete from intake_outbox');
  await db.query('delete from outbox');
});
afterEach(async () => {
  for (const r of relays) await r.stop();
  relays = [];
  await cleanupNats(prefix);
});

function relay(
  conn: NatsConnection = nc,
  owner: OutboxOwner = 'intake',
  timing: Pick<OutboxRelayOptions, 'pollMs' | 'graceMs'> = { pollMs: 200 },
): OutboxRelay {
  const r = createOutboxRelay({ databaseUrl: db.url, owner, js: jetstream(conn), prefix, logger, ...timing });
  relays.push(r);
  return r;
}

/** Rows as `owner` writes them: intake's `created` events, routing's `broadcast` events. */
async function insertRows(n: number, owner: OutboxOwner = 'intake'): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  const subject = owner === 'intake' ? 'events.request.created' : 'events.request.broadcast';
  await db.query(
    `insert into ${OUTBOX_TABLES[owner]} (id, subject, payload) select id, $2, jsonb_build_object('n', ord)
     from unnest($1::uuid[]) with ordinality as t(id, ord)`,
    [ids, subject],
  );
  return ids;
}

/** Every message id in the EVENTS stream (one entry per stored message). */
async function streamMsgIds(): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const name = natsNames(prefix).streams.events;
  const info = await jsm.streams.info(name);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(name, { seq });
    ids.push(m?.header?.get('Nats-Msg-Id') ?? '');
  }
  return ids;
}

async function unpublished(owner: OutboxOwner = 'intake'): Promise<number> {
  return (await db.query(`select count(*)::int as n from ${OUTBOX_TABLES[owner]}`)).rows[0].n;
}

describe('outbox relay', () => {
  it('publishes committed rows once, with Nats-Msg-Id = row id, and deletes them', async () => {
    await relay().start();
    const ids = await insertRows(25);
    await eventually(async () => (await unpublished()) === 0, 10_000, 'rows published');
    expect((await streamMsgIds()).sort()).toEqual([...ids].sort());
  });

  it('keeps rows through a NATS outage and publishes them when NATS is back', async () => {
    const proxy = await startTcpProxy(new URL(natsServers()[0] as string).host);
    const viaProxy = await connect({
      servers: `nats://${proxy.address}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      await relay(viaProxy).start();
      proxy.cut();
      const ids = await insertRows(10);
      // Shows nothing is published (or deleted) while NATS is cut off: a fixed wait.
      await new Promise((r) => setTimeout(r, 700));
      expect(await unpublished()).toBe(10);
      proxy.restore();
      await eventually(async () => (await unpublished()) === 0, 20_000, 'rows published after the outage');
      expect((await streamMsgIds()).sort()).toEqual([...ids].sort());
    } finally {
      for (const r of relays) await r.stop();
      relays = [];
      await viaProxy.close();
      await proxy.close();
    }
  });

  it.each(['claimed', 'published', 'deleted'] as const)(
    'loses and duplicates nothing when the relay is killed right after the rows are %s',
    async (step) => {
      const ids = await insertRows(20);
      const fixture = fileURLToPath(new URL('./fixtures/relay-crash.mjs', import.meta.url));
      const child = spawn(process.execPath, [fixture], {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          NATS_URL: natsServers().join(','),
          NATS_PREFIX: prefix,
          CRASH_AT: step,
        },
        stdio: 'inherit',
      });
      const exit = await new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on('exit', (code, signal) => resolve(signal ?? code)),
      );
      expect(exit).toBe('SIGKILL');
      // The dead relay's transaction rolled back: every row is still waiting.
      expect(await unpublished()).toBe(20);

      await relay().start();
      await eventually(async () => (await unpublished()) === 0, 15_000, 'rows published by the next relay');
      const published = await streamMsgIds();
      expect(published.sort()).toEqual([...ids].sort());
    },
  );

  it('shares the work among replicas without publishing a row twice or leaving one behind', async () => {
    const replicas = [relay(), relay(), relay()];
    await Promise.all(replicas.map((r) => r.start()));
    const ids: string[] = [];
    for (let burst = 0; burst < 6; burst++) ids.push(...(await insertRows(100)));
    await eventually(async () => (await unpublished()) === 0, 30_000, 'all rows published');
    const published = await streamMsgIds();
    expect(published).toHaveLength(ids.length);
    expect(new Set(published)).toEqual(new Set(ids));
  });

  it.each([
    ['intake', 'routing'],
    ['routing', 'intake'],
  ] as const)("%s's relay publishes its own outbox and never a row of %s's", async (owner, other) => {
    const others = await insertRows(8, other);
    const own = await insertRows(12, owner);
    const r = relay(nc, owner);
    expect(await r.backlog()).toBe(12);
    await r.start();
    await eventually(async () => (await unpublished(owner)) === 0, 10_000, `${owner}'s rows published`);
    // More of its own rows, published by a later look: the other's rows were there at every look.
    own.push(...(await insertRows(5, owner)));
    await eventually(async () => (await unpublished(owner)) === 0, 10_000, `${owner}'s later rows published`);
    await r.flush();
    expect((await streamMsgIds()).sort()).toEqual([...own].sort());
    expect(await unpublished(other)).toBe(others.length);
  });

  it('commits writes without NOTIFY: only the feature flags trigger calls pg_notify', async () => {
    // NOTIFY takes one lock for the whole cluster at commit, held through the WAL flush: on a
    // hot path it makes every transaction commit after the one before (issue 9).
    const { rows } = await db.query(`
      select c.relname as table, p.proname as function
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid
      where not t.tgisinternal and p.prosrc ilike '%notify%'`);
    expect(rows).toEqual([{ table: 'feature_flags', function: 'feature_flags_changed' }]);
  });

  it('looks at once when woken instead of waiting for its next poll', async () => {
    const r = relay(nc, 'intake', { pollMs: 60_000 });
    const first = await insertRows(1);
    await r.start();
    // Its first look publishes this row; the next poll is a minute away.
    await eventually(async () => (await unpublished()) === 0, 5000, 'first look done');
    const ids = [...first, ...(await insertRows(3))];
    r.wake();
    await eventually(async () => (await unpublished()) === 0, 5000, 'rows published after wake()');
    expect((await streamMsgIds()).sort()).toEqual([...ids].sort());
  });

  it('reports its backlog and flushes on demand', async () => {
    const r = relay();
    await insertRows(7);
    expect(await r.backlog()).toBe(7);
    await r.flush();
    expect(await r.backlog()).toBe(0);
  });

  it('fast path: publishes just-committed rows at once and deletes them; the relay takes only what it missed', async () => {
    const r = relay(nc, 'intake', { pollMs: 200, graceMs: 500 });
    await r.start();
    const publisher = createOutboxPublisher({
      databaseUrl: db.url,
      owner: 'intake',
      js: jetstream(nc),
      prefix,
      logger,
      deleteEveryMs: 20,
    });
    try {
      const fast = await insertRows(10);
      const missed = await insertRows(5);
      // The service publishes what it committed; suppose it died before publishing `missed`.
      await publisher.publish(fast.map((id) => ({ id, subject: 'events.request.created', payload: { fast: true } })));
      await eventually(async () => (await unpublished()) === 0, 10_000, 'every row published');
      const published = await streamMsgIds();
      expect(published.sort()).toEqual([...fast, ...missed].sort());
    } finally {
      await publisher.stop();
    }
  });
});
