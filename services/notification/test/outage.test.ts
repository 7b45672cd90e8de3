import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  natsServers,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  testPrefix,
  tokenFor,
} from '@dibs/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusedHandshake } from './support/clients.js';
import { publishUpdate, type RunningGateway, startGateway } from './support/gateway.js';
import { requestRow, seedCustomer, seedRequest } from './support/seed.js';

let db: TestDatabase;
let prefix: string;
let natsProxy: TcpProxy;
let dbProxy: TcpProxy;
let gw: RunningGateway;
let direct: NatsConnection;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwo');
  natsProxy = await startTcpProxy(new URL(natsServers()[0] as string).host);
  const dbUrl = new URL(db.url);
  dbProxy = await startTcpProxy(`${dbUrl.hostname}:${dbUrl.port || 5432}`);
  dbUrl.host = dbProxy.address;
  gw = await startGateway(db, prefix, {}, undefined, {
    natsServers: [`nats://${natsProxy.address}`],
    databaseUrl: dbUrl.toString(),
  });
  direct = await connectTestNats();
});
afterAll(async () => {
  natsProxy.restore();
  dbProxy.restore();
  await gw.close();
  await direct.close();
  await Promise.all([natsProxy.close(), dbProxy.close()]);
  await cleanupNats(prefix);
  await db.drop();
});

describe('outages', () => {
  it('delivers a notification published while the gateway was cut off from NATS, once it is back', async () => {
    const customerId = await seedCustomer(db);
    const customer = await connect(gw.wsUrl, await tokenFor('customer', customerId));
    const request = await requestRow(db, await seedRequest(db, { customerId }));
    natsProxy.cut();
    const id = await publishUpdate(direct, prefix, request);
    // Shows nothing arrives while the gateway is cut off: a fixed wait, nothing to await.
    await new Promise((r) => setTimeout(r, 500));
    expect(customer.ofType('request_update')).toEqual([]);
    natsProxy.restore();
    expect(await customer.nextOf('request_update', request.id, 20_000)).toMatchObject({ id });
    await customer.close();
  });

  it('refuses handshakes with 503 while PostgreSQL is unreachable, and keeps open sockets', async () => {
    const customerId = await seedCustomer(db);
    const token = await tokenFor('customer', customerId);
    const open = await connect(gw.wsUrl, token);
    dbProxy.cut();
    try {
      const refused = await refusedHandshake(gw.wsUrl, { authorization: `Bearer ${token}` });
      expect(refused).toMatchObject({ status: 503, upgraded: false, body: { code: 'unavailable' } });
      open.send({ type: 'ping' });
      await open.nextOf('pong');
    } finally {
      dbProxy.restore();
    }
    const again = await connect(gw.wsUrl, token);
    await Promise.all([again.close(), open.close()]);
  });
});
