import { createOrm, type Orm, sqlOf } from '@dibs/db';
import { createHttpApp, natsPlugin, ormPlugin, registerWork } from '@dibs/http';
import { connectTestNats, createTestDatabase, type TestDatabase } from '@dibs/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** An app on `orm` and `nc` as the services build theirs; `seen` records what the work found when it stopped. */
async function appOn(orm: Orm, nc: NatsConnection, owned: boolean) {
  const { app } = await createHttpApp({ service: 'infrastructure-test', logLevel: 'silent' });
  await app.register(ormPlugin, { connection: orm, owned });
  await app.register(natsPlugin, { connection: nc, owned });
  const seen: { natsOpen?: boolean; ormAnswers?: boolean } = {};
  await registerWork(app, 'test-work', async () => {
    seen.natsOpen = !nc.isClosed();
    seen.ormAnswers = (await sqlOf(orm.em).query('select 1')).rowCount === 1;
  });
  await app.ready();
  return { app, seen };
}

it('decorates the app with the connections it was handed', async () => {
  const orm = await createOrm({ url: db.url, poolMax: 1 });
  const nc = await connectTestNats();
  const { app } = await appOn(orm, nc, true);
  expect(app.orm).toBe(orm);
  expect(app.nats).toBe(nc);
  await app.close();
});

it('frees handed-over connections on close, after the work has stopped on them', async () => {
  const orm = await createOrm({ url: db.url, poolMax: 1 });
  const nc = await connectTestNats();
  const { app, seen } = await appOn(orm, nc, true);
  await app.close();
  expect(seen).toEqual({ natsOpen: true, ormAnswers: true });
  expect(nc.isClosed()).toBe(true);
  expect(await orm.isConnected()).toBe(false);
});

it('leaves connections it does not own open for the caller', async () => {
  const orm = await createOrm({ url: db.url, poolMax: 1 });
  const nc = await connectTestNats();
  try {
    const { app, seen } = await appOn(orm, nc, false);
    await app.close();
    expect(seen).toEqual({ natsOpen: true, ormAnswers: true });
    expect(nc.isClosed()).toBe(false);
    expect((await sqlOf(orm.em).query('select 1')).rowCount).toBe(1);
  } finally {
    await nc.close();
    await orm.close();
  }
});
