import { randomUUID } from 'node:crypto';
import { CommandReplySchema, contracts, natsNames } from '@dibs/contracts';
import { createLogger } from '@dibs/logger';
import { serve } from '@dibs/nats';
import { cleanupNats, createTestDatabase, eventually, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusedHandshake, type TestClient } from './support/clients.js';
import { publishUpdate, type RunningGateway, startGateway } from './support/gateway.js';
import { requestRow, seedCustomer, seedMechanic, seedRequest } from './support/seed.js';

let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;
const clients: TestClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwp');
  gw = await startGateway(db, prefix, {
    GATEWAY_HEARTBEAT_MS: '300',
    GATEWAY_RATE_LIMIT: '10',
    GATEWAY_ABUSE_LIMIT: '5',
    GATEWAY_MAX_BUFFERED_BYTES: '65536',
    GATEWAY_COMMAND_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gw.close();
  await cleanupNats(prefix);
  await db.drop();
});

async function mechanic(): Promise<{ id: string; client: TestClient }> {
  const id = await seedMechanic(db);
  const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
  clients.push(client);
  return { id, client };
}

describe('client frames', () => {
  it('answers ping with pong, and every frame carries id, type and at', async () => {
    const { client } = await mechanic();
    client.send({ type: 'ping' });
    const pong = await client.nextOf('pong');
    expect(pong).toMatchObject({ type: 'pong', id: expect.any(String), at: expect.any(String) });
  });

  it('answers invalid JSON, unknown types and oversized frames with an error frame and keeps the socket', async () => {
    const { client } = await mechanic();
    client.send('{not json');
    client.send({ type: 'subscribe', channel: 'all' });
    client.send({ type: 'ping', pad: 'x'.repeat(17 * 1024) });
    client.send('[1,2]');
    await eventually(() => client.ofType('error').length === 4, 5000, 'four error frames');
    expect(client.ofType('error').map((f) => f.code)).toEqual([
      'invalid_json',
      'unknown_type',
      'frame_too_large',
      'invalid_frame',
    ]);
    client.send({ type: 'ping' });
    await client.nextOf('pong');
    expect(client.closeCode).toBeUndefined();
  });

  it('closes a connection that keeps sending bad frames with 1008', async () => {
    const { client } = await mechanic();
    for (let i = 0; i < 20; i++) client.send('garbage');
    expect(await client.closed).toBe(1008);
  });

  it('rate-limits a flood and then closes it with 1008', async () => {
    const { client } = await mechanic();
    for (let i = 0; i < 200; i++) client.send({ type: 'ping' });
    expect(await client.closed).toBe(1008);
    expect(client.ofType('error').some((f) => f.code === 'rate_limited')).toBe(true);
    expect(client.ofType('pong').length).toBeLessThanOrEqual(25);
  });
});

describe('accept and decline over the socket', () => {
  it('answers unavailable when no routing answers', async () => {
    const { client } = await mechanic();
    client.send({ type: 'accept', request_id: randomUUID(), ref: 'a1' });
    expect(await client.next((f) => f.type === 'result' && f.ref === 'a1')).toMatchObject({
      ok: false,
      code: 'unavailable',
    });
  });

  it('answers invalid_command for a malformed request_id, and forbidden for customers', async () => {
    const { client } = await mechanic();
    client.send({ type: 'decline', request_id: 'nope', ref: 7 });
    expect(await client.next((f) => f.type === 'result' && f.ref === 7)).toMatchObject({
      ok: false,
      code: 'invalid_command',
    });
    const customer = await connect(gw.wsUrl, await tokenFor('customer', await seedCustomer(db)));
    clients.push(customer);
    customer.send({ type: 'accept', request_id: randomUUID(), ref: 'c' });
    expect(await customer.nextOf('result')).toMatchObject({ ref: 'c', ok: false, code: 'forbidden' });
  });

  it("forwards to routing's commands as this mechanic and relays its answer", async () => {
    const { id, client } = await mechanic();
    const customerId = await seedCustomer(db);
    const requestId = await seedRequest(db, { customerId, broadcast: true });
    const request = await requestRow(db, requestId);
    const received: unknown[] = [];
    const names = natsNames(prefix);
    const logger = createLogger({ service: 'fake-routing', level: 'silent', pretty: false });
    const subs = [
      serve(
        gw.nc,
        names,
        contracts.routing.accept,
        'r',
        async (cmd) => {
          received.push({ accept: cmd });
          return CommandReplySchema.parse({
            ok: true,
            request: { ...request, status: 'accepted', mechanic_id: cmd.mechanic_id },
          });
        },
        logger,
      ),
      serve(
        gw.nc,
        names,
        contracts.routing.decline,
        'r',
        async (cmd) => {
          received.push({ decline: cmd });
          return { ok: false, code: 'already_taken' };
        },
        logger,
      ),
    ];
    try {
      client.send({ type: 'decline', request_id: requestId, ref: 'd' });
      expect(await client.next((f) => f.type === 'result' && f.ref === 'd')).toMatchObject({
        ok: false,
        code: 'already_taken',
      });
      client.send({ type: 'accept', request_id: requestId, ref: 'a' });
      const ok = await client.next((f) => f.type === 'result' && f.ref === 'a');
      expect(ok).toMatchObject({ ok: true, request: { id: requestId, status: 'accepted', mechanic_id: id } });
      expect(received).toEqual([
        { decline: { request_id: requestId, mechanic_id: id } },
        { accept: { request_id: requestId, mechanic_id: id } },
      ]);
    } finally {
      for (const s of subs) s.unsubscribe();
    }
  });
});

describe('connection health', () => {
  it('drops a peer that stops answering pings within two heartbeat intervals, keeps a live one', async () => {
    const id = await seedMechanic(db);
    const silent = await connect(gw.wsUrl, await tokenFor('mechanic', id), { autoPong: false });
    const live = await mechanic();
    const started = Date.now();
    expect(await silent.closed).toBe(1006);
    expect(Date.now() - started).toBeLessThan(2 * 300 + 400);
    await new Promise((r) => setTimeout(r, 700));
    expect(live.client.closeCode).toBeUndefined();
  });

  it('closes a client that reads too slowly with 1013 instead of buffering without bound', async () => {
    // Its own gateway: a paused client cannot answer pings, and the 300 ms heartbeat would win.
    const roomy = await startGateway(db, prefix, { GATEWAY_MAX_BUFFERED_BYTES: '65536' });
    const customerId = await seedCustomer(db);
    const client = await connect(roomy.wsUrl, await tokenFor('customer', customerId));
    const socket = client.ws;
    socket.pause();
    const request = {
      ...(await requestRow(db, await seedRequest(db, { customerId }))),
      customer_name: 'x'.repeat(60_000),
    };
    const slow = () => [...roomy.gateway.hub.all].find((c) => c.userId === customerId)?.closeReason === 'slow_consumer';
    try {
      for (let i = 0; i < 1000 && !slow(); i++) {
        await publishUpdate(roomy.nc, prefix, request);
      }
      await eventually(slow, 5000, 'the gateway to give up on the slow client');
      socket.resume();
      expect(await client.closed).toBe(1013);
    } finally {
      socket.resume();
      await roomy.close();
    }
  });

  it('closes a client that stopped reading with frames unread with 1013, even when its backlog fits the kernel buffers', async () => {
    // A few small frames: nothing stays in the gateway's own buffer (bufferedAmount is 0), so only
    // the missed pong tells a stalled reader from a live one. It is slow, not dead: 1013, and the
    // frames it had not read still arrive before the close.
    const customerId = await seedCustomer(db);
    const client = await connect(gw.wsUrl, await tokenFor('customer', customerId));
    clients.push(client);
    const socket = client.ws;
    socket.pause();
    const request = await requestRow(db, await seedRequest(db, { customerId }));
    for (let i = 0; i < 3; i++) await publishUpdate(gw.nc, prefix, { ...request, plan_code: `unread-${i}` });
    const conn = () => [...gw.gateway.hub.all].find((c) => c.userId === customerId);
    await eventually(() => conn()?.closeReason === 'slow_consumer', 5000, 'the heartbeat to find the stalled reader');
    socket.resume();
    expect(await client.closed).toBe(1013);
    expect(client.ofType('request_update').map((f) => (f.request as { plan_code: string }).plan_code)).toEqual([
      'unread-0',
      'unread-1',
      'unread-2',
    ]);
  });

  it('closes the socket with 4001 when the token expires', async () => {
    const id = await seedMechanic(db);
    const client = await connect(gw.wsUrl, await tokenFor('mechanic', id, 2));
    expect(await client.closed).toBe(4001);
  });

  it('warns 30 s before the token expires, then closes with 4001 (injected clock)', async () => {
    let offset = 0;
    const shifted = await startGateway(db, prefix, {}, () => Date.now() + offset);
    try {
      const client = await connect(shifted.wsUrl, await tokenFor('customer', await seedCustomer(db), 120));
      clients.push(client);
      offset = 95_000;
      const warning = await client.nextOf('token_expiring');
      expect(Date.parse(String(warning.expires_at)) - (Date.now() + offset)).toBeLessThanOrEqual(30_000);
      expect(client.closeCode).toBeUndefined();
      offset = 121_000;
      expect(await client.closed).toBe(4001);
    } finally {
      await shifted.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('stops accepting (readyz 503, handshakes 503) and closes clients with 1012', async () => {
    const other = await startGateway(db, prefix, { GATEWAY_DRAIN_MS: '3000' });
    const id = await seedMechanic(db);
    const client = await connect(other.wsUrl, await tokenFor('mechanic', id));
    const stuck = await connect(other.wsUrl, await tokenFor('mechanic', id), { autoPong: false });
    const stuckSocket = (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket;
    stuckSocket.pause(); // never completes the close handshake: shutdown must wait, then cut it
    const closing = other.close();
    expect(await client.closed).toBe(1012);
    const ready = await fetch(`${other.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    const refused = await refusedHandshake(other.wsUrl, { authorization: `Bearer ${await tokenFor('mechanic', id)}` });
    expect(refused).toMatchObject({ status: 503, upgraded: false });
    await closing;
    stuckSocket.resume();
    await stuck.closed;
  });
});
