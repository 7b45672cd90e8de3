import { priorityMessage } from '@dibs/contracts';
import { cleanupNats, createTestDatabase, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type TestClient } from './support/clients.js';
import { publishEvent, type RunningGateway, startGateway } from './support/gateway.js';
import {
  nextTier,
  type OpenTier,
  requestRow,
  seedCustomer,
  seedMechanic,
  seedRequest,
  seedSequence,
} from './support/seed.js';

// A priority_sequence request (CONTRACT §6) as the gateway serves it: each tier's offer to its
// mechanic, offer_expired when a tier ends unanswered, the broadcast after the last one, and the
// snapshot of a mechanic whose tier is open. Events are published here exactly as routing's
// outbox does, with the tables in the state routing leaves them.
let db: TestDatabase;
let prefix: string;
let one: RunningGateway;
let two: RunningGateway;
const clients: TestClient[] = [];
type OpenItem = { kind: string; request: { id: string } };

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwq');
  one = await startGateway(db, prefix);
  two = await startGateway(db, prefix);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([one.close(), two.close()]);
  await cleanupNats(prefix);
  await db.drop();
});

async function mechanicOn(gw: RunningGateway) {
  const id = await seedMechanic(db);
  const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
  clients.push(client);
  return { id, client };
}

async function broadcast(requestId: string) {
  await db.query(`update session_requests set broadcast_at = now() where id = $1`, [requestId]);
  return publishEvent(one.nc, prefix, 'broadcast', await requestRow(db, requestId), [
    { type: 'new_request', fallback_reason: null, exclude_mechanic_ids: [] },
  ]);
}

/**
 * What routing publishes as a sequence moves on (CONTRACT §6): the mechanic whose tier ended gets
 * `offer_expired`, then the next tier's mechanic its priority offer, or everyone the broadcast.
 */
async function tierStep(requestId: string, ended: string | null, open: OpenTier | null) {
  const request = await requestRow(db, requestId);
  const expired = ended === null ? [] : [{ type: 'offer_expired' as const, mechanic_id: ended }];
  if (open === null) {
    return publishEvent(one.nc, prefix, 'broadcast', request, [
      ...expired,
      { type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: [] },
      { type: 'request_update' },
    ]);
  }
  return publishEvent(one.nc, prefix, 'priority_notified', request, [
    ...expired,
    {
      type: 'priority_session_request',
      mechanic_id: open.mechanicId,
      priority_window_minutes: open.windowMinutes,
      expires_at: open.expiresAt,
      message: priorityMessage(request.customer_name, open.windowMinutes),
      tier: open.tier,
    },
    { type: 'request_update' },
  ]);
}

describe('a sequence, tier by tier', () => {
  it('offers each tier to its mechanic with its tier, tells a mechanic whose tier ended offer_expired, and still broadcasts to it', async () => {
    const a = await mechanicOn(one);
    const b = await mechanicOn(two);
    const c = await mechanicOn(one);
    const customerId = await seedCustomer(db);
    const { id: requestId, first } = await seedSequence(db, customerId, [a.id, b.id]);

    await tierStep(requestId, null, first);
    expect(await a.client.nextOf('priority_session_request', requestId)).toMatchObject({
      target_mechanic_id: a.id,
      tier: 1,
      priority_window_minutes: 5,
      expires_at: first.expiresAt,
      message: 'Casey Customer specifically requested you! You have 5 minutes priority access.',
    });

    const second = await nextTier(db, requestId);
    const stepId = await tierStep(requestId, a.id, second);
    expect(await a.client.nextOf('offer_expired', requestId)).toEqual({
      // Its own id beside the next tier's offer of the same event (renderFrame).
      id: `${stepId}:offer_expired`,
      at: expect.any(String),
      type: 'offer_expired',
      request_id: requestId,
    });
    expect(await b.client.nextOf('priority_session_request', requestId)).toMatchObject({
      id: stepId,
      target_mechanic_id: b.id,
      tier: 2,
      priority_window_minutes: 3,
      expires_at: second?.expiresAt,
      request: { current_tier: 2, priority_expires_at: null },
    });

    // The last tier ends unanswered: its mechanic is told in the same event as the broadcast.
    expect(await nextTier(db, requestId)).toBeNull();
    const broadcastId = await tierStep(requestId, b.id, null);
    for (const m of [a, b, c]) {
      expect(await m.client.nextOf('new_request', requestId)).toMatchObject({ id: broadcastId });
    }
    expect(b.client.types().filter((t) => t === 'offer_expired' || t === 'new_request')).toEqual([
      'offer_expired',
      'new_request',
    ]);
    expect(a.client.ofType('offer_expired', requestId)).toHaveLength(1);
    expect(b.client.ofType('offer_expired', requestId)).toHaveLength(1);
    expect(c.client.ofType('offer_expired')).toEqual([]);
    expect(c.client.ofType('priority_session_request')).toEqual([]);

    // Each was offered it once more by the broadcast: a withdrawal to everyone offered reaches all three.
    await db.query(`update session_requests set status = 'accepted', mechanic_id = $2 where id = $1`, [
      requestId,
      c.id,
    ]);
    const accepted = await requestRow(db, requestId);
    await publishEvent(one.nc, prefix, 'accepted', accepted, [{ type: 'request_taken', mechanic_id: null }]);
    for (const m of [a, b, c]) await m.client.nextOf('request_taken', requestId);
  });

  it('forgets an expired tier: a withdrawal to everyone offered before any broadcast skips its mechanic', async () => {
    const a = await mechanicOn(one);
    const b = await mechanicOn(two);
    const customerId = await seedCustomer(db);
    const { id: requestId, first } = await seedSequence(db, customerId, [a.id, b.id]);
    await tierStep(requestId, null, first);
    await a.client.nextOf('priority_session_request', requestId);
    await tierStep(requestId, a.id, await nextTier(db, requestId));
    await a.client.nextOf('offer_expired', requestId);
    await b.client.nextOf('priority_session_request', requestId);
    await db.query(`update session_requests set status = 'cancelled', cancelled_at = now() where id = $1`, [requestId]);
    const cancelled = await requestRow(db, requestId);
    await publishEvent(one.nc, prefix, 'cancelled', cancelled, [{ type: 'request_cancelled', mechanic_id: null }]);
    await b.client.nextOf('request_cancelled', requestId);
    // A sentinel frame to a after the cancellation proves the cancellation is not merely late.
    const sentinel = await seedRequest(db, { customerId });
    await broadcast(sentinel);
    await a.client.nextOf('new_request', sentinel);
    expect(a.client.ofType('request_cancelled', requestId)).toEqual([]);
  });
});

describe('the snapshot of a sequence', () => {
  it('lists a sequence to the mechanic whose tier is open, until the tier’s deadline, and no more to rank 1 once its tier ended', async () => {
    const [first, second, third] = [await seedMechanic(db), await seedMechanic(db), await seedMechanic(db)];
    const customerId = await seedCustomer(db);
    const { id: requestId } = await seedSequence(db, customerId, [first, second, third]);
    const open = await nextTier(db, requestId);
    const snapshotOf = async (mechanicId: string) => {
      const client = await connect(one.wsUrl, await tokenFor('mechanic', mechanicId));
      clients.push(client);
      return ((await client.nextOf('snapshot')) as unknown as { open_requests: OpenItem[] }).open_requests.filter(
        (i) => i.request.id === requestId,
      );
    };
    expect(await snapshotOf(second)).toEqual([
      expect.objectContaining({
        kind: 'priority',
        expires_at: open?.expiresAt,
        fallback_reason: null,
        tier: 2,
        priority_window_minutes: open?.windowMinutes,
        request: expect.objectContaining({
          preferred_mechanic_id: first,
          priority_expires_at: null,
          current_tier: 2,
          offers: [
            expect.objectContaining({ mechanic_id: first, tier: 1, outcome: 'timeout' }),
            {
              mechanic_id: second,
              tier: 2,
              offered_at: expect.any(String),
              expires_at: open?.expiresAt,
              outcome: null,
            },
          ],
        }),
      }),
    ]);
    expect(await snapshotOf(first)).toEqual([]);
    expect(await snapshotOf(third)).toEqual([]);
    // Past its deadline, before routing has moved on, the tier is no offer any more.
    await db.query(
      `update session_request_offers set expires_at = now() - interval '1 second', offered_at = now() - interval '3 minutes'
       where request_id = $1 and tier = 2`,
      [requestId],
    );
    expect(await snapshotOf(second)).toEqual([]);
    await nextTier(db, requestId);
    expect(await nextTier(db, requestId)).toBeNull();
    // Broadcast: a broadcast item for every approved mechanic, rank 1 included.
    for (const m of [first, second, third]) {
      expect(await snapshotOf(m)).toEqual([expect.objectContaining({ kind: 'broadcast', expires_at: null })]);
    }
    await db.query(`update session_requests set status = 'cancelled' where id = $1`, [requestId]);
  });
});
