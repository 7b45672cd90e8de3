import { randomUUID } from 'node:crypto';
import { type Delivery, EVENT_VERSION, mechanicView, type RequestEvent, type SessionRequest } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { AbuseGuard } from '../src/domain/abuse-guard.js';
import { MAX_CLIENT_FRAME_BYTES, parseClientFrame } from '../src/domain/client-frame.js';
import { mayNotify, parseEvent, planDeliveries } from '../src/domain/delivery.js';
import { handshakeToken, originAllowed } from '../src/domain/handshake.js';
import { OfferMemory } from '../src/domain/offer-memory.js';
import { RecentIds } from '../src/domain/recent-ids.js';
import { openOfferKind, openPriorityOffer } from '../src/domain/rules/open-offer.js';
import { snapshotItems } from '../src/domain/snapshot.js';
import { expiryTimes } from '../src/handlers/token-expiry.js';
import { sessionRequest as request } from './support/requests.js';

const parse = (text: string) => parseClientFrame(text, Buffer.byteLength(text));

describe('parseClientFrame', () => {
  it('accepts ping, accept and decline', () => {
    const id = randomUUID();
    expect(parse('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parse(JSON.stringify({ type: 'accept', request_id: id, ref: 3 }))).toEqual({
      ok: true,
      frame: { type: 'accept', request_id: id, ref: 3 },
    });
  });

  it('names what is wrong with a bad frame', () => {
    expect(parse('nope')).toMatchObject({ ok: false, answer: 'error', code: 'invalid_json' });
    expect(parse('"text"')).toMatchObject({ ok: false, answer: 'error', code: 'invalid_frame' });
    expect(parse('{"type":"subscribe"}')).toMatchObject({ ok: false, answer: 'error', code: 'unknown_type' });
    expect(parse('{}')).toMatchObject({ ok: false, answer: 'error', code: 'unknown_type' });
    expect(parseClientFrame('', MAX_CLIENT_FRAME_BYTES + 1)).toMatchObject({ ok: false, code: 'frame_too_large' });
    expect(parse('{"type":"accept","request_id":"x","ref":"r"}')).toMatchObject({
      ok: false,
      answer: 'result',
      code: 'invalid_command',
      ref: 'r',
    });
  });

  it('accepts a seen, and answers a malformed one with an error frame, not a result', () => {
    const id = randomUUID();
    expect(parse(JSON.stringify({ type: 'seen', request_id: id, ref: 1 }))).toEqual({
      ok: true,
      frame: { type: 'seen', request_id: id },
    });
    expect(parse('{"type":"seen","request_id":"x","ref":"r"}')).toMatchObject({
      ok: false,
      answer: 'error',
      code: 'invalid_frame',
    });
    expect(parse('{"type":"seen"}')).toMatchObject({ ok: false, answer: 'error', code: 'invalid_frame' });
  });
});

describe('OfferMemory', () => {
  it('is a repeat filter per request and kind while the offer is open', () => {
    const offers = new OfferMemory(10);
    expect(offers.offer('r', 'priority', 1)).toBe(true);
    expect(offers.offer('r', 'priority', 1)).toBe(false);
    expect(offers.offer('r', 'broadcast', null)).toBe(true);
    expect(offers.offer('r', 'broadcast', null)).toBe(false);
    expect(offers.end('r')).toBe(true);
    expect(offers.end('r')).toBe(false);
    expect(offers.end('never')).toBe(false);
  });

  it('tells the first seen of an offer from a repeat and from a request never offered', () => {
    const offers = new OfferMemory(10);
    offers.offer('p', 'priority', 3);
    offers.offer('b', 'broadcast', null);
    expect(offers.seen('p')).toEqual({ outcome: 'first', offer: 'priority', tier: 3 });
    expect(offers.seen('p')).toEqual({ outcome: 'repeat' });
    expect(offers.seen('b')).toEqual({ outcome: 'first', offer: 'broadcast', tier: null });
    expect(offers.seen('x')).toEqual({ outcome: 'not_offered' });
  });

  it('keeps an ended priority offer seeable and forgets an ended broadcast', () => {
    const offers = new OfferMemory(10);
    offers.offer('p', 'priority', 2);
    offers.offer('b', 'broadcast', null);
    offers.end('p');
    offers.end('b');
    expect(offers.seen('p')).toEqual({ outcome: 'first', offer: 'priority', tier: 2 });
    expect(offers.seen('b')).toEqual({ outcome: 'not_offered' });
    // An ended offer is no repeat: the same kind may be offered again.
    expect(offers.offer('p', 'priority', 2)).toBe(true);
  });

  it('counts one seen per request across its offers: the broadcast after a seen priority offer is no new one', () => {
    const offers = new OfferMemory(10);
    offers.offer('r', 'priority', 1);
    expect(offers.seen('r')).toMatchObject({ outcome: 'first' });
    offers.offer('r', 'broadcast', null);
    expect(offers.seen('r')).toEqual({ outcome: 'repeat' });
    const unseen = new OfferMemory(10);
    unseen.offer('r', 'priority', 1);
    unseen.offer('r', 'broadcast', null);
    expect(unseen.seen('r')).toEqual({ outcome: 'first', offer: 'broadcast', tier: null });
  });

  it('forgets an unpublished seen, and the oldest offer beyond its capacity', () => {
    const offers = new OfferMemory(2);
    offers.offer('a', 'priority', 1);
    offers.seen('a');
    offers.unsee('a');
    expect(offers.seen('a')).toMatchObject({ outcome: 'first' });
    offers.offer('b', 'broadcast', null);
    offers.offer('c', 'broadcast', null);
    expect(offers.seen('a')).toEqual({ outcome: 'not_offered' });
    expect(offers.seen('c')).toMatchObject({ outcome: 'first' });
  });
});

describe('AbuseGuard', () => {
  it('lets a burst of two seconds through, then refuses until tokens refill', () => {
    const guard = new AbuseGuard(5, 10, 0);
    const admitted = Array.from({ length: 12 }, () => guard.admit(0)).filter(Boolean).length;
    expect(admitted).toBe(10);
    expect(guard.admit(100)).toBe(false);
    expect(guard.admit(200)).toBe(true);
  });

  it('closes after `limit` strikes in a row, but forgives strikes spread out over time', () => {
    const burst = new AbuseGuard(5, 3, 0);
    expect([burst.strike(0), burst.strike(1), burst.strike(2)]).toEqual([false, false, true]);
    const slow = new AbuseGuard(5, 3, 0);
    expect([0, 2000, 4000, 6000, 8000].map((t) => slow.strike(t))).toEqual([false, false, false, false, false]);
  });
});

describe('RecentIds', () => {
  it('reports a repeat and forgets the oldest beyond its capacity', () => {
    const ids = new RecentIds(2);
    expect([ids.add('a'), ids.add('a'), ids.add('b'), ids.add('c')]).toEqual([true, false, true, true]);
    expect(ids.has('a')).toBe(false);
    expect(ids.has('c')).toBe(true);
  });
});

describe('mayNotify', () => {
  it('skips, by subject alone, the events of this prefix that never notify and every other prefix', () => {
    expect(mayNotify('p', 'p.events.request.priority_notified')).toBe(true);
    expect(mayNotify('p', 'p.events.request.broadcast')).toBe(true);
    expect(mayNotify('p', 'p.events.request.created')).toBe(false);
    expect(mayNotify('p', 'p.events.request.declined')).toBe(false);
    expect(mayNotify('p', 'q.events.request.broadcast')).toBe(false);
  });
});

describe('planDeliveries', () => {
  const event = (r: SessionRequest, notify: Delivery[], kind: RequestEvent['kind'] = 'broadcast'): RequestEvent => ({
    v: EVENT_VERSION,
    id: randomUUID(),
    kind,
    occurred_at: new Date(0).toISOString(),
    request: r,
    actor_mechanic_id: null,
    notify,
    price: null,
  });

  it('offers a broadcast to approved mechanics minus the excluded, in the mechanic view, with the event id', () => {
    const excluded = randomUUID();
    const e = event(request({ fallback_reason: 'priority_timeout' }), [
      { type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: [excluded] },
    ]);
    const [plan] = planDeliveries(e);
    expect(plan).toMatchObject({
      action: 'offer',
      audience: { kind: 'mechanics' },
      offer: 'broadcast',
      tier: null,
      approvedOnly: true,
    });
    if (plan?.action !== 'offer') throw new Error('expected an offer');
    expect(plan.exclude.has(excluded)).toBe(true);
    expect(plan.frame).toMatchObject({ id: e.id, at: e.occurred_at, type: 'new_request', routing_type: 'broadcast' });
    expect(plan.frame).not.toHaveProperty('exclude_mechanic_ids');
    // A mechanic never learns the customer's email from an offer (CONTRACT §4).
    expect((plan.frame as { request: object }).request).not.toHaveProperty('customer_email');
  });

  it('addresses a priority offer to its mechanic only, and the update to the request’s customer with the full request', () => {
    const target = randomUUID();
    const r = request({ preferred_mechanic_id: target });
    const [offer, update] = planDeliveries(
      event(r, [
        {
          type: 'priority_session_request',
          mechanic_id: target,
          priority_window_minutes: 10,
          expires_at: new Date(0).toISOString(),
          message: 'm',
          tier: 1,
        },
        { type: 'request_update' },
      ]),
    );
    expect(offer).toMatchObject({
      action: 'offer',
      audience: { kind: 'mechanic', id: target },
      approvedOnly: false,
      frame: { type: 'priority_session_request', target_mechanic_id: target },
    });
    expect(update).toMatchObject({
      action: 'update',
      audience: { kind: 'customer', id: r.customer_id },
      frame: { type: 'request_update', request: { customer_email: 'casey@example.test' } },
    });
  });

  it('withdraws from every offered connection, or from the one mechanic named', () => {
    const r = request();
    const one = randomUUID();
    const [all, single] = planDeliveries(
      event(r, [
        { type: 'request_taken', mechanic_id: null },
        { type: 'request_cancelled', mechanic_id: one },
      ]),
    );
    expect(all).toMatchObject({
      action: 'withdraw',
      audience: { kind: 'mechanics' },
      onlyOffered: true,
      requestId: r.id,
    });
    expect(all?.frame).toMatchObject({ type: 'request_taken', request_id: r.id });
    expect(single).toMatchObject({ action: 'withdraw', audience: { kind: 'mechanic', id: one }, onlyOffered: false });
  });

  it('renders a sequence’s priority offer with its tier, window and deadline', () => {
    const target = randomUUID();
    const expires = new Date(180_000).toISOString();
    const [offer] = planDeliveries(
      event(request({ routing_type: 'priority_sequence' }), [
        {
          type: 'priority_session_request',
          mechanic_id: target,
          priority_window_minutes: 3,
          expires_at: expires,
          message: 'm',
          tier: 2,
        },
      ]),
    );
    expect(offer).toMatchObject({
      action: 'offer',
      offer: 'priority',
      tier: 2,
      audience: { kind: 'mechanic', id: target },
    });
    expect(offer?.frame).toMatchObject({
      type: 'priority_session_request',
      target_mechanic_id: target,
      priority_window_minutes: 3,
      expires_at: expires,
      tier: 2,
    });
  });

  it('withdraws an expired tier from its mechanic alone, whether or not this connection was offered it', () => {
    const r = request({ routing_type: 'priority_sequence' });
    const ended = randomUUID();
    const e = event(r, [{ type: 'offer_expired', mechanic_id: ended }], 'priority_notified');
    const [plan] = planDeliveries(e);
    expect(plan).toEqual({
      action: 'withdraw',
      audience: { kind: 'mechanic', id: ended },
      frame: { id: `${e.id}:offer_expired`, at: e.occurred_at, type: 'offer_expired', request_id: r.id },
      requestId: r.id,
      onlyOffered: false,
    });
  });

  it('finds nothing to do in an event without notifications, and refuses what is not an event', () => {
    expect(planDeliveries(event(request(), [], 'declined'))).toEqual([]);
    expect(parseEvent({ type: 'new_request' })).toBeUndefined();
  });
});

describe('snapshotItems', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('lists open priority offers first with expires_at, drops ended windows, keeps broadcasts with their reason', () => {
    const open = request({ priority_expires_at: at(60_000) });
    const ended = request({ priority_expires_at: at(-1) });
    const everyone = request({ fallback_reason: 'priority_timeout', broadcast_at: at(0) });
    const window = (r: SessionRequest) => ({ tier: 1, windowMinutes: 10, expiresAt: r.priority_expires_at as string });
    const items = snapshotItems(
      [
        { kind: 'broadcast', request: everyone },
        { kind: 'priority', request: ended, ...window(ended) },
        { kind: 'priority', request: open, ...window(open) },
      ],
      now,
    );
    expect(items).toEqual([
      {
        kind: 'priority',
        request: mechanicView(open),
        expires_at: open.priority_expires_at,
        fallback_reason: null,
        tier: 1,
        priority_window_minutes: 10,
      },
      {
        kind: 'broadcast',
        request: mechanicView(everyone),
        expires_at: null,
        fallback_reason: 'priority_timeout',
        tier: null,
        priority_window_minutes: null,
      },
    ]);
    for (const item of items) expect(item.request).not.toHaveProperty('customer_email');
  });

  it('gives a sequence’s tier the tier’s deadline, as the request’s own columns stay empty while tiers run', () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const sequence = request({
      routing_type: 'priority_sequence',
      preferred_mechanic_id: first,
      priority_notified_at: at(-240_000),
      offers: [
        { mechanic_id: first, tier: 1, offered_at: at(-240_000), expires_at: at(-60_000), outcome: 'timeout' },
        { mechanic_id: second, tier: 2, offered_at: at(-60_000), expires_at: at(120_000), outcome: null },
      ],
      current_tier: 2,
    });
    const [item] = snapshotItems(
      [{ kind: 'priority', request: sequence, tier: 2, windowMinutes: 3, expiresAt: at(120_000) }],
      now,
    );
    expect(item).toEqual({
      kind: 'priority',
      request: mechanicView(sequence),
      expires_at: at(120_000),
      fallback_reason: null,
      tier: 2,
      priority_window_minutes: 3,
    });
    expect(item?.request.current_tier).toBe(2);
  });
});

describe('openPriorityOffer', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('is a sequence’s open tier for its mechanic only, never the ended tier of the rank-1 mechanic', () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const sequence = request({
      routing_type: 'priority_sequence',
      preferred_mechanic_id: first,
      priority_notified_at: at(-240_000),
      offers: [
        { mechanic_id: first, tier: 1, offered_at: at(-240_000), expires_at: at(-60_000), outcome: 'timeout' },
        { mechanic_id: second, tier: 2, offered_at: at(-60_000), expires_at: at(120_000), outcome: null },
      ],
    });
    expect(openPriorityOffer(sequence, second, now)).toEqual({ tier: 2, expires_at: at(120_000) });
    expect(openOfferKind(sequence, second, false, false, now)).toBe('priority');
    expect(openPriorityOffer(sequence, first, now)).toBeNull();
    expect(openOfferKind(sequence, first, true, false, now)).toBeNull();
    // Its deadline passed, though routing has not closed it yet: not an offer any more.
    expect(openPriorityOffer(sequence, second, now + 120_000)).toBeNull();
  });

  it('is tier 1 until the deadline for a request with one preferred mechanic', () => {
    const target = randomUUID();
    const single = request({
      routing_type: 'priority_broadcast',
      preferred_mechanic_id: target,
      priority_notified_at: at(-60_000),
      priority_expires_at: at(60_000),
    });
    expect(openPriorityOffer(single, target, now)).toEqual({ tier: 1, expires_at: at(60_000) });
    expect(openPriorityOffer(single, target, now + 60_000)).toBeNull();
    expect(openPriorityOffer(single, randomUUID(), now)).toBeNull();
  });
});

describe('handshake rules', () => {
  it('admits non-browser clients always and browsers only from the allowlist', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('https://a.example', [])).toBe(false);
    expect(originAllowed('https://a.example', ['https://a.example'])).toBe(true);
    expect(originAllowed('https://b.example', ['https://a.example'])).toBe(false);
    expect(originAllowed('https://b.example', ['*'])).toBe(true);
  });

  it('prefers the bearer header over ?token=', () => {
    expect(handshakeToken('h', { token: 'q' })).toBe('h');
    expect(handshakeToken(undefined, { token: 'q' })).toBe('q');
    expect(handshakeToken(undefined, { token: ['a', 'b'] })).toBeUndefined();
  });

  it('warns 30 s before expiry only tokens that live more than a minute', () => {
    expect(expiryTimes(3600, 0)).toEqual({ expiresAt: 3_600_000, warnAt: 3_570_000 });
    expect(expiryTimes(50, 0)).toEqual({ expiresAt: 50_000, warnAt: 0 });
  });
});
