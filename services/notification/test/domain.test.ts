import { randomUUID } from 'node:crypto';
import type { SessionRequest } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { AbuseGuard } from '../src/domain/abuse-guard.js';
import { MAX_CLIENT_FRAME_BYTES, parseClientFrame } from '../src/domain/client-frame.js';
import { audienceOf, planDelivery } from '../src/domain/delivery.js';
import { handshakeToken, originAllowed } from '../src/domain/handshake.js';
import { RecentIds } from '../src/domain/recent-ids.js';
import { snapshotItems } from '../src/domain/snapshot.js';
import { expiryTimes } from '../src/handlers/token-expiry.js';

const parse = (text: string) => parseClientFrame(text, Buffer.byteLength(text));

function request(overrides: Partial<SessionRequest> = {}): SessionRequest {
  return {
    id: randomUUID(),
    customer_id: randomUUID(),
    customer_name: 'Casey',
    customer_email: 'casey@example.test',
    session_type: 'diagnostic',
    plan_code: 'basic',
    status: 'pending',
    routing_type: 'broadcast',
    preferred_mechanic_id: null,
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: new Date(0).toISOString(),
    ...overrides,
  };
}
const base = () => ({ id: randomUUID(), at: new Date(0).toISOString() });

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

describe('audienceOf', () => {
  it('maps notify subjects of this prefix only', () => {
    const id = randomUUID();
    expect(audienceOf('p', `p.notify.mechanic.${id}`)).toEqual({ kind: 'mechanic', id });
    expect(audienceOf('p', 'p.notify.mechanics')).toEqual({ kind: 'mechanics' });
    expect(audienceOf('p', `p.notify.customer.${id}`)).toEqual({ kind: 'customer', id });
    expect(audienceOf('p', `q.notify.customer.${id}`)).toBeUndefined();
    expect(audienceOf('p', 'p.notify.other.x')).toBeUndefined();
  });
});

describe('planDelivery', () => {
  it('strips exclude_mechanic_ids from a broadcast and keeps it as the exclusion list', () => {
    const excluded = randomUUID();
    const plan = planDelivery(
      { kind: 'mechanics' },
      {
        ...base(),
        type: 'new_request',
        request: request(),
        routing_type: 'broadcast',
        fallback_reason: null,
        exclude_mechanic_ids: [excluded],
      },
    );
    expect(plan).toMatchObject({ action: 'offer', offer: 'broadcast', approvedOnly: true });
    if (plan.action !== 'offer') throw new Error('expected an offer');
    expect(plan.exclude.has(excluded)).toBe(true);
    expect(plan.frame).not.toHaveProperty('exclude_mechanic_ids');
  });

  it('addresses a priority offer to its target mechanic only', () => {
    const target = randomUUID();
    const plan = planDelivery(
      { kind: 'mechanics' },
      {
        ...base(),
        type: 'priority_session_request',
        request: request(),
        target_mechanic_id: target,
        priority_window_minutes: 10,
        expires_at: new Date(0).toISOString(),
        message: 'm',
      },
    );
    expect(plan).toMatchObject({ action: 'offer', audience: { kind: 'mechanic', id: target }, approvedOnly: false });
  });

  it('withdraws only from offered connections on the all-mechanics subject', () => {
    const requestId = randomUUID();
    const taken = { ...base(), type: 'request_taken', request_id: requestId };
    expect(planDelivery({ kind: 'mechanics' }, taken)).toMatchObject({
      action: 'withdraw',
      onlyOffered: true,
      requestId,
    });
    expect(planDelivery({ kind: 'mechanic', id: randomUUID() }, taken)).toMatchObject({ onlyOffered: false });
    expect(planDelivery({ kind: 'customer', id: randomUUID() }, taken)).toMatchObject({ action: 'ignore' });
  });

  it("delivers a request_update only to the request's own customer", () => {
    const r = request();
    const update = { ...base(), type: 'request_update', request: r };
    expect(planDelivery({ kind: 'customer', id: r.customer_id }, update)).toMatchObject({ action: 'update' });
    expect(planDelivery({ kind: 'customer', id: randomUUID() }, update)).toMatchObject({ action: 'ignore' });
    expect(planDelivery({ kind: 'mechanics' }, update)).toMatchObject({ action: 'ignore' });
  });

  it('ignores a payload that is not a notification', () => {
    expect(planDelivery({ kind: 'mechanics' }, { type: 'new_request' })).toMatchObject({ action: 'ignore' });
  });
});

describe('snapshotItems', () => {
  it('lists open priority offers first with expires_at, drops ended windows, keeps broadcasts with their reason', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const open = request({ priority_expires_at: new Date(now + 60_000).toISOString() });
    const ended = request({ priority_expires_at: new Date(now - 1).toISOString() });
    const everyone = request({ fallback_reason: 'priority_timeout', broadcast_at: new Date(now).toISOString() });
    const items = snapshotItems(
      [
        { kind: 'broadcast', request: everyone },
        { kind: 'priority', request: ended },
        { kind: 'priority', request: open },
      ],
      now,
    );
    expect(items).toEqual([
      { kind: 'priority', request: open, expires_at: open.priority_expires_at, fallback_reason: null },
      { kind: 'broadcast', request: everyone, expires_at: null, fallback_reason: 'priority_timeout' },
    ]);
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
