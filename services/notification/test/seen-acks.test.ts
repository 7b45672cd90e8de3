import { randomUUID } from 'node:crypto';
import { natsNames, priorityMessage, SeenEventSchema, seenMessageId } from '@dibs/contracts';
import { provisionStreams } from '@dibs/nats';
import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  eventually,
  type TestDatabase,
  testPrefix,
  tokenFor,
} from '@dibs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Frame, type TestClient } from './support/clients.js';
import { publishEvent, type RunningGateway, startGateway } from './support/gateway.js';
import { nextTier, requestRow, seedCustomer, seedMechanic, seedRequest, seedSequence } from './support/seed.js';

// Seen acks (CONTRACT §7, issue 13): a mechanic's app answers an offer frame with
// {"type":"seen","request_id"}; the gateway publishes the first per (request, mechanic) to
// `events.offer.seen` with JetStream and refuses a seen of an offer the connection never got.

/** The gateway's clock runs ahead of the test's: `seen_at` must be the gateway's time. */
const SKEW_MS = 60_000;
const ABUSE_LIMIT = 3;

let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;
/** The test's own NATS connection, watching every publish on the seen subject. */
let watcher: NatsConnection;
let subs: Subscription[] = [];
/** Every seen ack published (core NATS sees a publish even when the stream drops it as a duplicate). */
const published: unknown[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwk');
  gw = await startGateway(
    db,
    prefix,
    { GATEWAY_ABUSE_LIMIT: String(ABUSE_LIMIT), GATEWAY_RATE_LIMIT: '50' },
    () => Date.now() + SKEW_MS,
  );
  watcher = await connectTestNats();
  subs = [
    watcher.subscribe(natsNames(prefix).subjects.seen, {
      callback: (_err, msg) => {
        published.push(msg.json());
      },
    }),
  ];
  await watcher.flush();
});
afterAll(async () => {
  for (const s of subs) s.unsubscribe();
  await Promise.all(clients.map((c) => c.close()));
  await watcher?.close();
  await gw?.close();
  await cleanupNats(prefix);
  await db?.drop();
});

async function mechanicOn(on: RunningGateway = gw): Promise<{ id: string; token: string; client: TestClient }> {
  const id = await seedMechanic(db);
  const token = await tokenFor('mechanic', id);
  const client = await connect(on.wsUrl, token);
  clients.push(client);
  return { id, token, client };
}

async function reconnect(on: RunningGateway, token: string): Promise<TestClient> {
  const client = await connect(on.wsUrl, token);
  clients.push(client);
  return client;
}

/** A live priority offer of a new request to `mechanicId` (tier 1), as routing publishes it. */
async function priorityOffer(mechanicId: string): Promise<string> {
  const customerId = await seedCustomer(db);
  const requestId = await seedRequest(db, { customerId, preferredMechanicId: mechanicId, priorityForMs: 600_000 });
  const request = await requestRow(db, requestId);
  await publishEvent(gw.nc, prefix, 'priority_notified', request, [
    {
      type: 'priority_session_request',
      mechanic_id: mechanicId,
      priority_window_minutes: 10,
      expires_at: request.priority_expires_at as string,
      message: priorityMessage(request.customer_name, 10),
      tier: 1,
    },
  ]);
  return requestId;
}

/** A live broadcast of a new request to every approved mechanic. */
async function broadcastOffer(): Promise<string> {
  const customerId = await seedCustomer(db);
  const requestId = await seedRequest(db, { customerId, broadcast: true });
  await publishEvent(gw.nc, prefix, 'broadcast', await requestRow(db, requestId), [
    { type: 'new_request', fallback_reason: null, exclude_mechanic_ids: [] },
  ]);
  return requestId;
}

/**
 * The seen events the stream holds for `requestId`, each with its JetStream message id. A seen
 * published twice with the same message id is stored once.
 */
async function stored(on: RunningGateway, requestId: string): Promise<{ event: unknown; msgId: string }[]> {
  const names = natsNames(on.config.NATS_PREFIX);
  const jsm = await jetstreamManager(on.nc);
  const { state } = await jsm.streams.info(names.streams.events);
  const found: { event: unknown; msgId: string }[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(names.streams.events, { seq }).catch(() => null);
    if (msg?.subject !== names.subjects.seen) continue;
    const event = msg.json<{ request_id: string }>();
    if (event.request_id === requestId) found.push({ event, msgId: msg.header.get('Nats-Msg-Id') });
  }
  return found;
}

/**
 * Resolves once the gateway has handled every frame sent before on `client` (a ping is answered
 * in order), and every seen it published meanwhile has reached the watcher: a core message the
 * gateway's NATS connection sends afterwards arrives after them.
 */
async function settled(client: TestClient): Promise<void> {
  const pongs = client.ofType('pong').length;
  client.send({ type: 'ping' });
  await client.next((f) => f.type === 'pong' && client.ofType('pong').length > pongs, 10_000, 'a pong');
  const marker = `${prefix}.test.barrier.${randomUUID()}`;
  const arrived = new Promise<void>((resolve) => {
    const sub = watcher.subscribe(marker, { max: 1, callback: () => resolve() });
    subs.push(sub);
  });
  await watcher.flush();
  gw.nc.publish(marker);
  await arrived;
}

const publishedFor = (requestId: string) =>
  published.filter((e) => (e as { request_id?: string }).request_id === requestId);
const errors = (client: TestClient): Frame[] => client.ofType('error');

async function seenAcks(on: RunningGateway, outcome: string): Promise<number> {
  const text = await (await fetch(`${on.httpUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('dibs_gateway_seen_acks_total{') && l.includes(`"${outcome}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('seen acks', () => {
  it('publishes the first seen of a priority offer once, with its kind, tier and the gateway’s time', async () => {
    const m = await mechanicOn();
    const requestId = await priorityOffer(m.id);
    await m.client.nextOf('priority_session_request', requestId);
    const repeatsBefore = await seenAcks(gw, 'repeat');

    const before = Date.now() + SKEW_MS;
    m.client.send({ type: 'seen', request_id: requestId });
    m.client.send({ type: 'seen', request_id: requestId });
    await settled(m.client);
    const after = Date.now() + SKEW_MS;

    const [event, ...more] = await eventually(async () => {
      const s = await stored(gw, requestId);
      return s.length > 0 && s;
    });
    expect(more).toEqual([]);
    expect(event?.msgId).toBe(seenMessageId(requestId, m.id));
    const seen = SeenEventSchema.parse(event?.event);
    expect(seen).toEqual({
      v: 1,
      request_id: requestId,
      mechanic_id: m.id,
      offer: 'priority',
      tier: 1,
      seen_at: expect.any(String),
    });
    expect(Date.parse(seen.seen_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(seen.seen_at)).toBeLessThanOrEqual(after);
    // The repeat was dropped by the gateway itself, not only by the stream's duplicate window.
    expect(publishedFor(requestId)).toHaveLength(1);
    expect(await seenAcks(gw, 'repeat')).toBe(repeatsBefore + 1);
    // A seen is a receipt: no answer, no error.
    expect(m.client.ofType('result')).toEqual([]);
    expect(errors(m.client)).toEqual([]);
  });

  it('refuses a seen of a request this mechanic was never offered with not_offered, and records nothing', async () => {
    const offered = await mechanicOn();
    const other = await mechanicOn();
    const requestId = await priorityOffer(offered.id);
    await offered.client.nextOf('priority_session_request', requestId);

    other.client.send({ type: 'seen', request_id: requestId });
    other.client.send({ type: 'seen', request_id: randomUUID() });
    await eventually(() => errors(other.client).length === 2, 5000, 'two error frames');
    await settled(other.client);

    expect(errors(other.client).map((f) => f.code)).toEqual(['not_offered', 'not_offered']);
    expect(publishedFor(requestId)).toEqual([]);
    expect(await stored(gw, requestId)).toEqual([]);
    // The offered mechanic's seen still counts: the refusal recorded nothing for the request.
    offered.client.send({ type: 'seen', request_id: requestId });
    await eventually(async () => (await stored(gw, requestId)).length === 1, 5000, 'the offered mechanic’s seen');
  });

  it('answers not_offered without a strike, but a malformed seen is an invalid frame', async () => {
    const m = await mechanicOn();
    for (let i = 0; i < ABUSE_LIMIT + 2; i++) m.client.send({ type: 'seen', request_id: randomUUID() });
    await eventually(() => errors(m.client).length === ABUSE_LIMIT + 2, 5000, 'an error frame for each seen');
    await settled(m.client);
    expect(m.client.closeCode).toBeUndefined();

    m.client.send({ type: 'seen', request_id: 'not-a-uuid', ref: 'r' });
    const invalid = await m.client.next((f) => f.type === 'error' && f.code !== 'not_offered', 5000, 'invalid_frame');
    expect(invalid).toMatchObject({ code: 'invalid_frame' });
    expect(m.client.ofType('result')).toEqual([]);
  });

  it('publishes a seen of a broadcast offer as a broadcast, without a tier', async () => {
    const m = await mechanicOn();
    const requestId = await broadcastOffer();
    await m.client.nextOf('new_request', requestId);
    m.client.send({ type: 'seen', request_id: requestId });
    const [event] = await eventually(async () => {
      const s = await stored(gw, requestId);
      return s.length > 0 && s;
    });
    expect(event?.event).toMatchObject({ request_id: requestId, mechanic_id: m.id, offer: 'broadcast', tier: null });
  });

  it('accepts a seen of a snapshot item after a reconnect, and the stream keeps one per (request, mechanic)', async () => {
    const customerId = await seedCustomer(db);
    const [first, second] = [await seedMechanic(db), await seedMechanic(db)];
    const { id: requestId } = await seedSequence(db, customerId, [first, second]);
    await nextTier(db, requestId);
    const token = await tokenFor('mechanic', second);

    for (let connection = 0; connection < 2; connection++) {
      const client = await reconnect(gw, token);
      const snapshot = client.ofType('snapshot')[0] as unknown as {
        open_requests: { kind: string; request: { id: string } }[];
      };
      expect(snapshot.open_requests.find((i) => i.request.id === requestId)).toMatchObject({
        kind: 'priority',
        tier: 2,
      });
      client.send({ type: 'seen', request_id: requestId });
      await settled(client);
      expect(errors(client)).toEqual([]);
      await client.close();
    }
    // Each connection forwarded its first seen; JetStream's message id kept one of the two.
    expect(publishedFor(requestId)).toHaveLength(2);
    const kept = await stored(gw, requestId);
    expect(kept.map((s) => s.event)).toEqual([
      expect.objectContaining({ mechanic_id: second, offer: 'priority', tier: 2 }),
    ]);
  });

  it('counts a seen that crosses the end of a priority offer, but not one of a broadcast already taken', async () => {
    const m = await mechanicOn();
    const priority = await priorityOffer(m.id);
    await m.client.nextOf('priority_session_request', priority);
    await publishEvent(gw.nc, prefix, 'priority_notified', await requestRow(db, priority), [
      { type: 'offer_expired', mechanic_id: m.id },
    ]);
    await m.client.nextOf('offer_expired', priority);
    m.client.send({ type: 'seen', request_id: priority });
    await eventually(async () => (await stored(gw, priority)).length === 1, 5000, 'the late seen');

    const broadcast = await broadcastOffer();
    await m.client.nextOf('new_request', broadcast);
    await publishEvent(gw.nc, prefix, 'accepted', await requestRow(db, broadcast), [
      { type: 'request_taken', mechanic_id: null },
    ]);
    await m.client.nextOf('request_taken', broadcast);
    m.client.send({ type: 'seen', request_id: broadcast });
    expect(await m.client.nextOf('error')).toMatchObject({ code: 'not_offered' });
    await settled(m.client);
    expect(publishedFor(broadcast)).toEqual([]);
  });

  it('refuses a customer’s seen with not_offered', async () => {
    const customerId = await seedCustomer(db);
    const requestId = await seedRequest(db, { customerId, broadcast: true });
    const client = await connect(gw.wsUrl, await tokenFor('customer', customerId));
    clients.push(client);
    client.send({ type: 'seen', request_id: requestId });
    expect(await client.nextOf('error')).toMatchObject({ code: 'not_offered' });
    await settled(client);
    expect(publishedFor(requestId)).toEqual([]);
    expect(client.closeCode).toBeUndefined();
  });

  it('keeps the socket when a seen cannot be published, and counts the next one', async () => {
    const otherPrefix = testPrefix('gwk');
    const other = await startGateway(db, otherPrefix);
    try {
      const customerId = await seedCustomer(db);
      const requestId = await seedRequest(db, { customerId, broadcast: true });
      const m = await mechanicOn(other);
      const jsm = await jetstreamManager(other.nc);
      await jsm.streams.delete(natsNames(otherPrefix).streams.events);

      m.client.send({ type: 'seen', request_id: requestId });
      await eventually(async () => (await seenAcks(other, 'publish_failed')) === 1, 10_000, 'the failed publish');
      expect(errors(m.client)).toEqual([]);
      expect(m.client.closeCode).toBeUndefined();

      await provisionStreams(jsm, natsNames(otherPrefix));
      m.client.send({ type: 'seen', request_id: requestId });
      await eventually(async () => (await stored(other, requestId)).length === 1, 10_000, 'the seen after recovery');
      expect(await seenAcks(other, 'forwarded')).toBe(1);
    } finally {
      await other.close();
      await cleanupNats(otherPrefix);
    }
  });
});
