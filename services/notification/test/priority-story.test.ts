import { randomUUID } from 'node:crypto';
import { cleanupNats, createTestDatabase, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, snapshotIds, type TestClient } from './support/clients.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { type ServiceProcess, startService } from './support/services.js';

// The whole priority story over sockets, with the real intake and routing processes and two
// gateway instances; mechanics and the customer are spread across both.
const MINUTE_MS = 500; // a 10-minute window lasts 5 s: time for the steps inside it on a busy machine

let db: TestDatabase;
let prefix: string;
let intake: ServiceProcess;
let routing: ServiceProcess;
let one: RunningGateway;
let two: RunningGateway;
let admin: string;
const clients: TestClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gws');
  // Both start at once; if one fails, the other must not outlive the test file.
  const started = await Promise.allSettled([
    startService('intake', db, prefix),
    startService('routing', db, prefix, { PRIORITY_MINUTE_MS: String(MINUTE_MS) }),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  [intake, routing] = started.map((s) => (s as PromiseFulfilledResult<ServiceProcess>).value) as [
    ServiceProcess,
    ServiceProcess,
  ];
  [one, two] = await Promise.all([startGateway(db, prefix), startGateway(db, prefix)]);
  admin = await tokenFor('admin', randomUUID());
  await api('PATCH', '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY', admin, { is_enabled: true }, 200);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([one?.close(), two?.close(), intake?.stop(), routing?.stop()]);
  await cleanupNats(prefix);
  await db.drop();
});

async function api(method: string, path: string, token: string, body: unknown, expected: number) {
  const res = await fetch(`${intake.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function newMechanic(status: 'approved' | 'pending' = 'approved') {
  const m = await api(
    'POST',
    '/v1/admin/mechanics',
    admin,
    {
      first_name: 'Mo',
      last_name: 'Mechanic',
      email: `${randomUUID()}@example.test`,
    },
    201,
  );
  if (status === 'approved') await api('PATCH', `/v1/admin/mechanics/${m.id}`, admin, { status: 'approved' }, 200);
  return { id: m.id as string, token: await tokenFor('mechanic', m.id) };
}

async function newCustomer() {
  const c = await api(
    'POST',
    '/v1/admin/customers',
    admin,
    { name: 'Casey Customer', email: `${randomUUID()}@example.test` },
    201,
  );
  return { id: c.id as string, token: await tokenFor('customer', c.id) };
}

async function on(gw: RunningGateway, token: string) {
  const client = await connect(gw.wsUrl, token);
  clients.push(client);
  return client;
}

function book(customer: { token: string }, preferred?: string) {
  return api(
    'POST',
    '/v1/session-requests',
    customer.token,
    {
      session_type: 'diagnostic',
      plan_code: 'basic',
      ...(preferred ? { preferred_mechanic_id: preferred, routing_type: 'priority_broadcast' } : {}),
    },
    201,
  ) as Promise<{ id: string }>;
}

function command(client: TestClient, type: 'accept' | 'decline', requestId: string) {
  const ref = randomUUID();
  client.send({ type, request_id: requestId, ref });
  return client.next((f) => f.type === 'result' && f.ref === ref, 10_000, `result of ${type}`);
}

describe('the priority story over sockets', () => {
  it('offers the preferred mechanic first, then everyone; the first accept wins and the others hear it is taken', async () => {
    const preferred = await newMechanic();
    const [a, b] = [await newMechanic(), await newMechanic()];
    const notApproved = await newMechanic('pending');
    const customer = await newCustomer();
    await api('PUT', `/v1/favorites/${preferred.id}`, customer.token, undefined, 201);

    let pSocket = await on(one, preferred.token);
    const aSocket = await on(two, a.token);
    const bSocket = await on(one, b.token);
    const sSocket = await on(two, notApproved.token);
    const cSocket = await on(two, customer.token);

    const { id } = await book(customer, preferred.id);
    const offer = await pSocket.nextOf('priority_session_request', id);
    expect(offer).toMatchObject({
      target_mechanic_id: preferred.id,
      priority_window_minutes: 10,
      expires_at: expect.any(String),
      message: 'Casey Customer specifically requested you! You have 10 minutes priority access.',
      request: { id, preferred_mechanic_id: preferred.id, priority_notified_at: expect.any(String) },
    });
    const notified = await cSocket.next(
      (f) =>
        f.type === 'request_update' &&
        (f.request as { priority_notified_at: string | null }).priority_notified_at !== null,
    );
    expect(notified.request).toMatchObject({ id, status: 'pending' });
    // The customer's email reaches the customer, never a mechanic who has not won (CONTRACT §4).
    expect(notified.request).toMatchObject({ customer_email: expect.stringContaining('@') });
    expect(offer.request).not.toHaveProperty('customer_email');

    // The preferred mechanic's phone reconnects during the window: the snapshot holds the offer.
    await pSocket.close();
    pSocket = await on(two, preferred.token);
    const snapshot = await pSocket.nextOf('snapshot');
    const items = snapshot.open_requests as { kind: string; expires_at: string; request: { id: string } }[];
    const item = items.find((i) => i.request.id === id);
    expect(item).toMatchObject({ kind: 'priority', expires_at: offer.expires_at });
    expect(item?.request).not.toHaveProperty('customer_email');

    // Nobody else may take it inside the window.
    expect(await command(aSocket, 'accept', id)).toMatchObject({ ok: false, code: 'priority_window_active' });

    // The window ends unanswered: every approved mechanic gets new_request.
    for (const s of [aSocket, bSocket, pSocket]) {
      const broadcast = await s.nextOf('new_request', id);
      expect(broadcast).toMatchObject({ routing_type: 'broadcast', fallback_reason: 'priority_timeout' });
      expect(broadcast.request).not.toHaveProperty('customer_email');
    }
    await cSocket.next(
      (f) => f.type === 'request_update' && (f.request as { broadcast_at: string | null }).broadcast_at !== null,
    );

    // Two mechanics race; exactly one wins, the others are told it is taken.
    const [ra, rb] = await Promise.all([command(aSocket, 'accept', id), command(bSocket, 'accept', id)]);
    expect([ra.ok, rb.ok].sort()).toEqual([false, true]);
    const [winner, loser] = ra.ok ? [aSocket, bSocket] : [bSocket, aSocket];
    expect((ra.ok ? rb : ra).code).toBe('already_taken');
    await loser.nextOf('request_taken', id);
    await pSocket.nextOf('request_taken', id);
    const accepted = await cSocket.next(
      (f) => f.type === 'request_update' && (f.request as { status: string }).status === 'accepted',
    );
    expect(accepted.request).toMatchObject({ id, status: 'accepted', accepted_at: expect.any(String) });

    // Nothing reached those it was not meant for (a later frame proves they are not merely late).
    const later = await book(customer);
    await winner.nextOf('new_request', later.id);
    // The later frame reached the winner; 200 ms more for the other sockets: a fixed wait.
    await new Promise((r) => setTimeout(r, 200));
    expect(aSocket.ofType('priority_session_request')).toEqual([]);
    expect(bSocket.ofType('priority_session_request')).toEqual([]);
    expect(sSocket.ofType('new_request')).toEqual([]);
    expect(winner.ofType('request_taken', id)).toEqual([]);
    for (const s of [aSocket, bSocket, pSocket]) expect(s.ofType('new_request', id)).toHaveLength(1);
    expect(new Set(cSocket.ofType('request_update', id).map((f) => f.id)).size).toBe(
      cSocket.ofType('request_update', id).length,
    );
    await api('POST', `/v1/session-requests/${later.id}/cancel`, customer.token, undefined, 200);
  });

  it('a decline by the preferred mechanic broadcasts at once to everyone else; a cancel withdraws it', async () => {
    const preferred = await newMechanic();
    const other = await newMechanic();
    const customer = await newCustomer();
    await api('PUT', `/v1/favorites/${preferred.id}`, customer.token, undefined, 201);
    const pSocket = await on(two, preferred.token);
    const oSocket = await on(one, other.token);
    const cSocket = await on(one, customer.token);

    const { id } = await book(customer, preferred.id);
    await pSocket.nextOf('priority_session_request', id);
    expect(await command(pSocket, 'decline', id)).toMatchObject({ ok: true });
    expect(await oSocket.nextOf('new_request', id)).toMatchObject({ fallback_reason: 'priority_declined' });

    // The decliner's reconnect does not bring it back.
    const again = await on(one, preferred.token);
    expect(snapshotIds(again)).not.toContain(id);
    expect(snapshotIds(oSocket)).not.toContain(id);

    await api('POST', `/v1/session-requests/${id}/cancel`, customer.token, undefined, 200);
    await oSocket.nextOf('request_cancelled', id);
    const cancelled = await cSocket.next(
      (f) => f.type === 'request_update' && (f.request as { status: string }).status === 'cancelled',
    );
    expect(cancelled.request).toMatchObject({ id, cancelled_at: expect.any(String) });
    expect(await command(oSocket, 'accept', id)).toMatchObject({ ok: false, code: 'not_pending' });
    // Shows the cancelled window never reaches everyone: a fixed wait, nothing to await.
    await new Promise((r) => setTimeout(r, 200));
    expect(pSocket.ofType('new_request', id)).toEqual([]);
  });

  it('a cancel inside the window tells the preferred mechanic', async () => {
    const preferred = await newMechanic();
    const customer = await newCustomer();
    await api('PUT', `/v1/favorites/${preferred.id}`, customer.token, undefined, 201);
    const pSocket = await on(one, preferred.token);
    const { id } = await book(customer, preferred.id);
    await pSocket.nextOf('priority_session_request', id);
    await api('POST', `/v1/session-requests/${id}/cancel`, customer.token, undefined, 200);
    await pSocket.nextOf('request_cancelled', id);
  });
});
