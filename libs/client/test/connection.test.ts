import { eventually, startTcpProxy, type TcpProxy, tokenFor } from '@dibs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import {
  type ConnectionOptions,
  DibsApiError,
  DibsConnection,
  DibsConnectionError,
  type SessionRequest,
  type SocketEvent,
} from '../src/index.js';
import { Recorder } from './support/recorder.js';
import { type ClientStack, type Person, startClientStack } from './support/stack.js';

// The SDK's gateway connection against the real gateway, routing, intake and analytics (one
// window minute = 1 s). Each test makes its own customer and mechanics.
let s: ClientStack;
const opened: DibsConnection[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  s = await startClientStack({ minuteMs: 1000 });
  await s.enablePriority();
});
afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  for (const p of proxies.splice(0)) await p.close();
  s.gatewayClockSkewMs = 0;
  if (!s.gateway()) await s.startGateway();
});
afterAll(async () => {
  await s?.close();
});

/** A connection as `person`, through the `ws` package (Node's global WebSocket works as well, see below). */
function connect(person: Person, options: Partial<ConnectionOptions> = {}) {
  const conn = new DibsConnection({
    url: s.wsUrl,
    token: person.token,
    WebSocket: WsWebSocket,
    reconnect: { baseDelayMs: 50, maxDelayMs: 400 },
    ...options,
  });
  opened.push(conn);
  return { conn, rec: new Recorder(conn) };
}

const video = { session_type: 'video', plan_code: 'basic' };

/** Books a broadcast for `customer` and waits until routing has broadcast it. */
async function bookBroadcast(customer: Person): Promise<SessionRequest> {
  const booked = await customer.api.sessionRequests.book(video);
  return eventually(async () => {
    const r = await customer.api.sessionRequests.get(booked.id);
    return r.broadcast_at !== null && r;
  });
}

/** The `ws` WebSocket with every incoming frame delivered twice, as a flaky relay would. */
class RepeatingWebSocket extends WsWebSocket {
  static delivered = 0;
  override addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: SocketEvent) => void,
  ): void {
    if (type !== 'message') {
      super.addEventListener(type, listener);
      return;
    }
    super.addEventListener('message', (event) => {
      RepeatingWebSocket.delivered += 2;
      listener(event);
      listener(event);
    });
  }
}

describe('offers', () => {
  it('surfaces a priority offer once, sends one seen ack, and accepts through the result frame', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer('Dana Driver')];
    await dana.api.favorites.add(ann.id);
    const { conn, rec } = connect(ann);
    await conn.connect();
    const forwarded = await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"');

    const booked = await dana.api.sessionRequests.book({ ...video, preferred_mechanic_id: ann.id });
    await rec.until(`added:${booked.id}:priority`);
    const offer = conn.offer(booked.id);
    expect(offer).toMatchObject({
      kind: 'priority',
      tier: 1,
      priority_window_minutes: 10,
      message: 'Dana Driver specifically requested you! You have 10 minutes priority access.',
    });
    expect(offer?.request).not.toHaveProperty('customer_email');
    expect(Date.parse(offer?.expires_at ?? '')).toBeGreaterThan(Date.now());

    expect(conn.seen(booked.id)).toBe(true);
    expect(conn.seen(booked.id)).toBe(false);
    await eventually(
      async () => (await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"')) === forwarded + 1,
      5000,
      'the seen ack forwarded',
    );

    const accepted = await conn.accept(booked.id);
    expect(accepted).toMatchObject({ id: booked.id, status: 'accepted', mechanic_id: ann.id });
    expect(rec.about(booked.id)).toEqual([`added:${booked.id}:priority`, `removed:${booked.id}:accepted`]);
    expect(conn.offers()).toEqual([]);
    expect((await dana.api.sessionRequests.get(booked.id)).status).toBe('accepted');
    expect(await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"')).toBe(forwarded + 1);
  });

  it("removes a broadcast from the others once taken; a late accept fails with the API's code", async () => {
    const [ann, bob, dana] = [await s.mechanic('Ann'), await s.mechanic('Bob'), await s.customer()];
    const a = connect(ann);
    const b = connect(bob);
    await Promise.all([a.conn.connect(), b.conn.connect()]);
    const booked = await dana.api.sessionRequests.book(video);
    await Promise.all([a.rec.until(`added:${booked.id}:broadcast`), b.rec.until(`added:${booked.id}:broadcast`)]);

    await a.conn.accept(booked.id);
    await b.rec.until(`removed:${booked.id}:taken`);
    const late = await b.conn.accept(booked.id).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(DibsApiError);
    expect(late).toMatchObject({ status: 409, code: 'already_taken' });
    expect(b.conn.offers()).toEqual([]);
  });

  it('never surfaces an offer twice when every frame arrives twice, nor again from the next snapshot', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    const { conn, rec } = connect(ann, { WebSocket: RepeatingWebSocket });
    const frames: string[] = [];
    conn.on('frame', (f) => frames.push(f.id));
    await conn.connect();
    const before = await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"');

    const booked = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${booked.id}:broadcast`);
    expect(conn.seen(booked.id)).toBe(true);
    await dana.api.sessionRequests.cancel(booked.id);
    await rec.until(`removed:${booked.id}:cancelled`);
    expect(rec.about(booked.id)).toEqual([`added:${booked.id}:broadcast`, `removed:${booked.id}:cancelled`]);
    expect(new Set(frames).size).toBe(frames.length);
    expect(RepeatingWebSocket.delivered).toBe(2 * frames.length);
    expect(await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"')).toBe(before + 1);

    // The snapshot after a reconnect lists what the app already shows: nothing new is told.
    const open = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${open.id}:broadcast`);
    await s.stopGateway();
    await s.startGateway();
    await rec.until('state:connected', 2);
    expect(rec.about(open.id)).toEqual([`added:${open.id}:broadcast`]);
  });

  it('times out an accept whose result does not come in time; the request says what happened', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    const { conn, rec } = connect(ann);
    await conn.connect();
    const booked = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${booked.id}:broadcast`);
    const err = await conn.accept(booked.id, { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DibsConnectionError);
    expect(err).toMatchObject({ reason: 'timeout' });
    await eventually(async () => (await dana.api.sessionRequests.get(booked.id)).status === 'accepted');
  });
});

describe('reconnecting', () => {
  it('reconnects across a gateway restart on the same port; the snapshot surfaces what was missed', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    const { conn, rec } = connect(ann);
    await conn.connect();
    const before = await dana.api.sessionRequests.book(video);
    const kept = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${before.id}:broadcast`);
    await rec.until(`added:${kept.id}:broadcast`);

    // Every snapshot merged from now on: the SDK may reconnect at any moment after the stop, so
    // the listener is there before it.
    const synced: string[][] = [];
    conn.on('synced', (offers) => synced.push(offers.map((o) => o.request_id)));
    await s.stopGateway();
    await eventually(() => conn.state === 'disconnected', 5000, 'the SDK to notice');
    // While away: one request is broadcast (the frame reaches nobody), another is cancelled.
    const missed = await bookBroadcast(dana);
    await dana.api.sessionRequests.cancel(before.id);
    // An accept asked for while away waits for the connection; a seen ack is held until then.
    const accepting = conn.accept(missed.id, { timeoutMs: 15_000 });
    expect(conn.seen(kept.id)).toBe(true);
    expect(conn.seen(before.id)).toBe(true);

    await s.startGateway();
    await rec.until(`added:${missed.id}:broadcast`);
    await eventually(() => synced.some((ids) => ids.includes(missed.id)), 15_000, 'a snapshot with the missed one');
    expect(rec.about(before.id)).toEqual([`added:${before.id}:broadcast`, `removed:${before.id}:withdrawn`]);
    expect(await accepting).toMatchObject({ id: missed.id, status: 'accepted', mechanic_id: ann.id });
    // The held ack of the offer still open reached the new gateway; that of the cancelled one was dropped.
    await eventually(async () => (await s.gatewayMetric('dibs_gateway_seen_acks_total', '"forwarded"')) === 1);
    expect(await s.gatewayMetric('dibs_gateway_seen_acks_total', '"not_offered"')).toBe(0);

    // And it keeps working live.
    const after = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${after.id}:broadcast`);
    expect(rec.count(`added:${missed.id}:broadcast`)).toBe(1);
  });

  it('reconnects after the path dies without a close (cut mid-stream), with Node’s global WebSocket', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    const proxy = await startTcpProxy(`127.0.0.1:${s.gatewayPort}`);
    proxies.push(proxy);
    const { conn, rec } = connect(ann, { url: `ws://${proxy.address}/v1/ws`, WebSocket: undefined });
    await conn.connect();
    proxy.cut();
    await eventually(() => conn.state !== 'connected', 5000, 'the SDK to notice the cut');
    const missed = await bookBroadcast(dana);
    proxy.restore();
    await rec.until(`added:${missed.id}:broadcast`);
    expect(conn.state).toBe('connected');
  });
});

describe('tokens', () => {
  it('asks the token provider again on `token_expiring` and reconnects with the new token', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    let calls = 0;
    const { conn, rec } = connect(ann, {
      token: async () => {
        calls++;
        return tokenFor('mechanic', ann.id, 90);
      },
    });
    const closes: (number | undefined)[] = [];
    conn.on('state', (state, info) => state === 'disconnected' && closes.push(info.code));
    const warned = new Promise((resolve) => conn.on('frame', (f) => f.type === 'token_expiring' && resolve(f)));
    await conn.connect();
    expect(calls).toBe(1);
    // The gateway warns 30 s before a token expires: move its clock there.
    s.gatewayClockSkewMs = 61_000;
    await warned;
    await rec.until('state:connected', 2);
    expect(calls).toBe(2);
    expect(closes).not.toContain(4001);
    const booked = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${booked.id}:broadcast`);
  });

  it('refreshes a short-lived token before it expires, so the gateway never closes for expiry', async () => {
    const [ann, dana] = [await s.mechanic('Ann'), await s.customer()];
    let calls = 0;
    const { conn, rec } = connect(ann, {
      token: async () => {
        calls++;
        return tokenFor('mechanic', ann.id, 4);
      },
    });
    const closes: (number | undefined)[] = [];
    conn.on('state', (state, info) => state === 'disconnected' && closes.push(info.code));
    await conn.connect();
    await eventually(() => calls >= 3, 10_000, 'two refreshes');
    expect(closes).not.toContain(4001);
    const booked = await dana.api.sessionRequests.book(video);
    await rec.until(`added:${booked.id}:broadcast`);
  });
});

describe('customers', () => {
  it("follows a sequence through its tiers as the mechanics' SDKs decline and accept", async () => {
    const [ann, bob, dana] = [await s.mechanic('Ann'), await s.mechanic('Bob'), await s.customer()];
    await dana.api.favorites.add(ann.id);
    await dana.api.favorites.add(bob.id);
    await dana.api.favorites.setOrder([ann.id, bob.id]);
    const a = connect(ann);
    const b = connect(bob);
    const d = connect(dana);
    await Promise.all([a.conn.connect(), b.conn.connect(), d.conn.connect()]);
    expect(d.conn.identity).toMatchObject({ role: 'customer', user_id: dana.id });

    const booked = await dana.api.sessionRequests.bookSequence(video);
    await a.rec.until(`added:${booked.id}:priority`);
    expect(a.conn.offer(booked.id)?.tier).toBe(1);
    await eventually(() => d.rec.updates.some((r) => r.current_tier === 1), 5000, 'the customer to see tier 1');

    await a.conn.decline(booked.id);
    expect(a.rec.about(booked.id)).toEqual([`added:${booked.id}:priority`, `removed:${booked.id}:declined`]);
    await b.rec.until(`added:${booked.id}:priority`);
    expect(b.conn.offer(booked.id)?.tier).toBe(2);
    await eventually(() => d.rec.updates.some((r) => r.current_tier === 2), 5000, 'the customer to see tier 2');

    await b.conn.accept(booked.id);
    await eventually(() => d.conn.requests().find((r) => r.id === booked.id)?.status === 'accepted');
    const last = d.conn.requests().find((r) => r.id === booked.id);
    expect(last?.offers.map((o) => [o.tier, o.outcome])).toEqual([
      [1, 'declined'],
      [2, 'accepted'],
    ]);
    expect(last?.customer_email).toMatch(/@example\.com$/);
  });
});
