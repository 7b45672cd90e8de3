import { priorityMessage } from '@dibs/contracts';
import { cleanupNats, createTestDatabase, eventually, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, snapshotIds, type TestClient } from './support/clients.js';
import { publishEvent, publishUpdate, type RunningGateway, startGateway } from './support/gateway.js';
import { requestRow, seedCustomer, seedMechanic, seedRequest } from './support/seed.js';

// Lifecycle events carrying notifications, published here exactly as routing's outbox does; the
// full story with the real routing service is in priority-story.test.ts.
let db: TestDatabase;
let prefix: string;
let one: RunningGateway;
let two: RunningGateway;
const clients: TestClient[] = [];
type OpenItem = { kind: string; request: { id: string } };

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwd');
  one = await startGateway(db, prefix, { GATEWAY_STATUS_REFRESH_MS: '200' });
  two = await startGateway(db, prefix, { GATEWAY_STATUS_REFRESH_MS: '200' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([one.close(), two.close()]);
  await cleanupNats(prefix);
  await db.drop();
});

async function mechanicOn(gw: RunningGateway, status: 'approved' | 'pending' | 'suspended' = 'approved') {
  const id = await seedMechanic(db, status);
  const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
  clients.push(client);
  return { id, client };
}

async function priorityOffer(requestId: string, mechanicId: string) {
  const request = await requestRow(db, requestId);
  return publishEvent(one.nc, prefix, 'priority_notified', request, [
    {
      type: 'priority_session_request',
      mechanic_id: mechanicId,
      priority_window_minutes: 10,
      expires_at: request.priority_expires_at as string,
      message: priorityMessage(request.customer_name, 10),
      tier: 1,
    },
    { type: 'request_update' },
  ]);
}

async function broadcast(requestId: string, exclude?: string[]) {
  await db.query(
    `update session_requests set broadcast_at = now(), fallback_reason = 'priority_timeout' where id = $1`,
    [requestId],
  );
  const request = await requestRow(db, requestId);
  return publishEvent(one.nc, prefix, 'broadcast', request, [
    { type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: exclude ?? [] },
    { type: 'request_update' },
  ]);
}

describe('delivery across two gateway instances', () => {
  it('sends a priority offer only to its mechanic, wherever connected, and a broadcast to every approved mechanic', async () => {
    const a = await mechanicOn(one);
    const b = await mechanicOn(two);
    const c = await mechanicOn(one);
    const pending = await mechanicOn(two, 'pending');
    const customerId = await seedCustomer(db);
    const requestId = await seedRequest(db, { customerId, preferredMechanicId: b.id, priorityForMs: 60_000 });

    const offerId = await priorityOffer(requestId, b.id);
    const offer = await b.client.nextOf('priority_session_request', requestId);
    expect(offer).toMatchObject({
      id: offerId,
      target_mechanic_id: b.id,
      expires_at: expect.any(String),
      message: 'Casey Customer specifically requested you! You have 10 minutes priority access.',
    });

    const broadcastId = await broadcast(requestId, [c.id]);
    for (const m of [a, b]) {
      const frame = await m.client.nextOf('new_request', requestId);
      expect(frame).toMatchObject({ id: broadcastId, routing_type: 'broadcast', fallback_reason: 'priority_timeout' });
      expect(frame).not.toHaveProperty('exclude_mechanic_ids');
    }
    // A later frame to the others proves the earlier ones are not merely late.
    const laterId = await seedRequest(db, { customerId });
    await broadcast(laterId);
    await a.client.nextOf('new_request', laterId);
    await c.client.nextOf('new_request', laterId);
    expect(a.client.ofType('priority_session_request')).toEqual([]);
    expect(c.client.ofType('priority_session_request')).toEqual([]);
    expect(c.client.ofType('new_request', requestId)).toEqual([]);
    expect(pending.client.ofType('new_request')).toEqual([]);
    // What /metrics reports as frames sent, by type (both instances wrote some).
    expect(one.gateway.sent.new_request).toBeGreaterThanOrEqual(2);
    expect(two.gateway.sent.priority_session_request).toBe(1);
  });

  it('sends request_taken to the mechanics that were offered the request, and never an event twice', async () => {
    const a = await mechanicOn(one);
    const b = await mechanicOn(two);
    const notApproved = await mechanicOn(one, 'pending');
    const customerId = await seedCustomer(db);
    const requestId = await seedRequest(db, { customerId });
    await broadcast(requestId);
    await a.client.nextOf('new_request', requestId);
    await b.client.nextOf('new_request', requestId);
    // Connected after the broadcast: offered the request through its snapshot.
    const late = await mechanicOn(two);
    expect(snapshotIds(late.client)).toContain(requestId);
    await db.query(`update session_requests set status = 'accepted' where id = $1`, [requestId]);
    // The same event published twice, the second time past JetStream's duplicate window (another
    // Nats-Msg-Id), as a relay might after a long outage: nobody sees it twice.
    const takenId = crypto.randomUUID();
    const accepted = await requestRow(db, requestId);
    for (const msgID of [takenId, crypto.randomUUID()]) {
      const notify = [{ type: 'request_taken' as const, mechanic_id: null }];
      await publishEvent(one.nc, prefix, 'accepted', accepted, notify, takenId, msgID);
    }
    const sentinel = await seedRequest(db, { customerId, preferredMechanicId: notApproved.id, priorityForMs: 60_000 });
    await priorityOffer(sentinel, notApproved.id);
    await notApproved.client.nextOf('priority_session_request', sentinel);
    for (const m of [a, b, late]) {
      expect(await m.client.nextOf('request_taken', requestId)).toMatchObject({ id: takenId, request_id: requestId });
    }
    // Shows a second copy does not come: a fixed wait, nothing to await.
    await new Promise((r) => setTimeout(r, 200));
    for (const m of [a, b, late]) expect(m.client.ofType('request_taken', requestId)).toHaveLength(1);
    expect(a.client.ofType('new_request', requestId)).toHaveLength(1);
    expect(notApproved.client.ofType('request_taken')).toEqual([]);
  });

  it('sends each customer the updates of its own requests only', async () => {
    const customerId = await seedCustomer(db);
    const otherId = await seedCustomer(db);
    const customer = await connect(one.wsUrl, await tokenFor('customer', customerId));
    const other = await connect(two.wsUrl, await tokenFor('customer', otherId));
    clients.push(customer, other);
    const requestId = await seedRequest(db, { customerId });
    const request = await requestRow(db, requestId);
    const updateId = await publishUpdate(one.nc, prefix, request);
    // The customer's own frame carries the whole request, email included.
    expect(await customer.nextOf('request_update', requestId)).toMatchObject({
      id: updateId,
      request: { id: requestId, customer_email: request.customer_email },
    });
    // A republish of the same event (past the duplicate window) is dropped by the gateway.
    const update = [{ type: 'request_update' as const }];
    await publishEvent(one.nc, prefix, 'accepted', request, update, updateId, crypto.randomUUID());
    // The update of another customer's request goes to that customer only.
    const foreign = await requestRow(db, await seedRequest(db, { customerId: otherId }));
    await publishUpdate(one.nc, prefix, foreign);
    await other.nextOf('request_update', foreign.id);
    // Shows the republished and the foreign update do not come: a fixed wait, nothing to await.
    await new Promise((r) => setTimeout(r, 200));
    expect(customer.ofType('request_update')).toHaveLength(1);
    expect(other.ofType('request_update')).toHaveLength(1);
  });

  it('stops broadcasting to a mechanic suspended while connected, and resumes once approved', async () => {
    const m = await mechanicOn(two);
    const customerId = await seedCustomer(db);
    await db.query(`update mechanics set status = 'suspended' where id = $1`, [m.id]);
    // The gateway re-reads statuses every 200 ms and shows nobody when it has: three intervals.
    await new Promise((r) => setTimeout(r, 600));
    const first = await seedRequest(db, { customerId });
    await broadcast(first);
    await db.query(`update mechanics set status = 'approved' where id = $1`, [m.id]);
    await new Promise((r) => setTimeout(r, 600));
    const second = await seedRequest(db, { customerId });
    await broadcast(second);
    await m.client.nextOf('new_request', second);
    expect(m.client.ofType('new_request', first)).toEqual([]);
  });
});

describe('the snapshot', () => {
  it('lists own priority offers with expires_at and broadcast ones, minus declined and foreign offers', async () => {
    const me = await seedMechanic(db);
    const someoneElse = await seedMechanic(db);
    const customerId = await seedCustomer(db);
    const mine = await seedRequest(db, { customerId, preferredMechanicId: me, priorityForMs: 60_000 });
    const theirs = await seedRequest(db, { customerId, preferredMechanicId: someoneElse, priorityForMs: 60_000 });
    const expired = await seedRequest(db, { customerId, preferredMechanicId: me, priorityForMs: -1000 });
    const open = await seedRequest(db, { customerId, broadcast: true, fallbackReason: 'flag_disabled' });
    const declined = await seedRequest(db, { customerId, broadcast: true });
    await db.query('insert into session_request_declines (request_id, mechanic_id) values ($1, $2)', [declined, me]);
    const taken = await seedRequest(db, { customerId, broadcast: true, status: 'accepted' });

    const client = await connect(two.wsUrl, await tokenFor('mechanic', me));
    clients.push(client);
    const snapshot = (await client.nextOf('snapshot')) as unknown as { open_requests: OpenItem[] };
    const ids = snapshot.open_requests.map((i) => i.request.id);
    expect(ids).toContain(mine);
    expect(ids).toContain(open);
    for (const absent of [theirs, expired, declined, taken]) expect(ids).not.toContain(absent);
    const priority = snapshot.open_requests.find((i) => i.request.id === mine);
    expect(priority).toMatchObject({ kind: 'priority', expires_at: expect.any(String), fallback_reason: null });
    expect(snapshot.open_requests.find((i) => i.request.id === open)).toMatchObject({
      kind: 'broadcast',
      expires_at: null,
      fallback_reason: 'flag_disabled',
    });
    expect(snapshot.open_requests[0]?.kind).toBe('priority');
    await db.query(`update session_requests set status = 'cancelled' where id = any($1)`, [[open, declined, taken]]);
  });

  it('gives a mechanic not approved its own priority offer but no broadcast ones', async () => {
    const me = await seedMechanic(db, 'pending');
    const customerId = await seedCustomer(db);
    const mine = await seedRequest(db, { customerId, preferredMechanicId: me, priorityForMs: 60_000 });
    const open = await seedRequest(db, { customerId, broadcast: true });
    const client = await connect(one.wsUrl, await tokenFor('mechanic', me));
    clients.push(client);
    expect(snapshotIds(client)).toEqual([mine]);
    await db.query(`update session_requests set status = 'cancelled' where id = $1`, [open]);
  });

  it('holds the open offer after a reconnect during the window, and the live offer is not repeated', async () => {
    const me = await seedMechanic(db);
    const customerId = await seedCustomer(db);
    const token = await tokenFor('mechanic', me);
    const first = await connect(one.wsUrl, token);
    await first.close();
    const requestId = await seedRequest(db, { customerId, preferredMechanicId: me, priorityForMs: 60_000 });
    await priorityOffer(requestId, me); // published while the mechanic is away
    const again = await connect(two.wsUrl, token);
    clients.push(again);
    const snapshot = (await again.nextOf('snapshot')) as unknown as { open_requests: OpenItem[] };
    const priority = snapshot.open_requests.filter((i) => i.kind === 'priority').map((i) => i.request.id);
    expect(priority).toEqual([requestId]);
    // The same offer published again now (e.g. a republish) is not sent on top of the snapshot.
    await priorityOffer(requestId, me);
    const sentinel = await seedRequest(db, { customerId, preferredMechanicId: me, priorityForMs: 60_000 });
    await priorityOffer(sentinel, me);
    await again.nextOf('priority_session_request', sentinel);
    expect(again.ofType('priority_session_request', requestId)).toEqual([]);
  });
});

describe('the event consumer', () => {
  it('recovers when the EVENTS stream is re-created (e.g. restored by an operator)', async () => {
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { provisionStreams } = await import('@dibs/nats');
    const { natsNames } = await import('@dibs/contracts');
    const customerId = await seedCustomer(db);
    const customer = await connect(one.wsUrl, await tokenFor('customer', customerId));
    clients.push(customer);
    const jsm = await jetstreamManager(one.nc);
    await jsm.streams.delete(natsNames(prefix).streams.events);
    await provisionStreams(jsm, natsNames(prefix));
    const request = await requestRow(db, await seedRequest(db, { customerId }));
    await eventually(
      async () => {
        await publishUpdate(one.nc, prefix, request);
        return customer.ofType('request_update', request.id).length > 0;
      },
      20_000,
      'a notification after the stream came back',
    );
  });
});

describe('presence', () => {
  it('keeps one KV entry per mechanic and instance with its connection count', async () => {
    const { Kvm } = await import('@nats-io/kv');
    const { jetstream } = await import('@nats-io/jetstream');
    const kv = await new Kvm(jetstream(one.nc)).open(`${prefix}_presence`);
    const id = await seedMechanic(db);
    const token = await tokenFor('mechanic', id);
    const x = await connect(one.wsUrl, token);
    const y = await connect(one.wsUrl, token);
    const z = await connect(two.wsUrl, token);
    const entry = async (gw: RunningGateway) =>
      (await kv.get(`${id}.${gw.gateway.instanceId}`))?.json<Record<string, unknown>>();
    await eventually(async () => (await entry(one))?.connections === 2, 5000, 'two connections on one');
    expect(await entry(one)).toMatchObject({ mechanic_id: id, instance_id: one.gateway.instanceId, connections: 2 });
    await eventually(async () => (await entry(two))?.connections === 1, 5000, 'one connection on two');
    const closing = Date.now();
    await Promise.all([x.close(), y.close(), z.close()]);
    // The last socket gone, the entry stays, with no connection and the time it closed.
    const gone = await eventually(
      async () => {
        const e = await entry(one);
        return e?.connections === 0 && e;
      },
      5000,
      'entry written as gone',
    );
    expect(gone).toMatchObject({ mechanic_id: id, instance_id: one.gateway.instanceId });
    expect(Date.parse(String(gone.updated_at))).toBeGreaterThanOrEqual(closing);
    expect(Date.parse(String(gone.updated_at))).toBeLessThanOrEqual(Date.now());
    await eventually(async () => (await entry(two))?.connections === 0, 5000, 'the entry on two written as gone');
  });
});
