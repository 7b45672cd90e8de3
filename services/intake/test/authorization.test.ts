import { randomUUID } from 'node:crypto';
import { createTokenService } from '@dibs/auth';
import { tokenFor, tokenWithoutExp } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// Every route × every kind of caller. "ok" means the gate let the caller through (the route then
// answers 2xx, or 503 for routes that need routing/analytics, which this file does not run).
type Caller =
  | 'none'
  | 'malformed'
  | 'expired'
  | 'forged'
  | 'ghost_customer'
  | 'customer'
  | 'other_customer'
  | 'mechanic'
  | 'admin';
type Expect = 'ok' | 401 | 403 | 404;

let h: IntakeHarness;
const tokens = {} as Record<Caller, string | undefined>;
let requestId: string;
let mechanicId: string;
/** An experiment made for these cases, never active (an active one would enrol the bookings). */
const experimentKey = 'authorization-check';

beforeAll(async () => {
  h = await startIntake();
  const owner = await h.customer('Owner');
  const other = await h.customer('Other');
  const mech = await h.mechanic();
  mechanicId = mech.id;
  const forger = createTokenService('a-different-secret-that-is-long-enough-1234');
  tokens.none = undefined;
  tokens.malformed = 'not.a.jwt';
  tokens.expired = await tokenFor('customer', owner.id, -60);
  tokens.forged = await forger.sign({ sub: owner.id, role: 'admin' });
  tokens.ghost_customer = await tokenFor('customer', randomUUID());
  tokens.customer = owner.token;
  tokens.other_customer = other.token;
  tokens.mechanic = mech.token;
  tokens.admin = h.adminToken;
  const booked = await h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: bearer(owner.token),
    payload: { session_type: 'video', plan_code: 'basic' },
  });
  requestId = booked.json().id;
  await h.db.query(`insert into experiments (key, arms) values ($1, $2)`, [
    experimentKey,
    JSON.stringify([
      { name: 'a', window_minutes: 5, weight: 1 },
      { name: 'b', window_minutes: 10, weight: 1 },
    ]),
  ]);
});
afterAll(async () => {
  await h?.close();
});

const badTokens: Record<'none' | 'malformed' | 'expired' | 'forged', Expect> = {
  none: 401,
  malformed: 401,
  expired: 401,
  forged: 401,
};

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: () => string;
  body?: () => object;
  expect: Partial<Record<Caller, Expect>>;
}

const adminOnly = {
  ...badTokens,
  ghost_customer: 403,
  customer: 403,
  other_customer: 403,
  mechanic: 403,
  admin: 'ok',
} as const;
const customerOnly = {
  ...badTokens,
  ghost_customer: 401,
  customer: 'ok',
  other_customer: 'ok',
  mechanic: 403,
  admin: 403,
} as const;
const ownerOnly = { ...customerOnly, other_customer: 404 } as const;
const mechanicOnly = {
  ...badTokens,
  ghost_customer: 403,
  customer: 403,
  other_customer: 403,
  mechanic: 'ok',
  admin: 403,
} as const;

const routes: RouteCase[] = [
  {
    method: 'POST',
    url: () => '/v1/admin/mechanics',
    body: () => ({ first_name: 'A', last_name: 'B', email: `${randomUUID()}@x.io` }),
    expect: adminOnly,
  },
  { method: 'GET', url: () => '/v1/admin/mechanics', expect: adminOnly },
  { method: 'GET', url: () => `/v1/admin/mechanics/${mechanicId}`, expect: adminOnly },
  {
    method: 'PATCH',
    url: () => `/v1/admin/mechanics/${mechanicId}`,
    body: () => ({ status: 'approved' }),
    expect: adminOnly,
  },
  {
    method: 'POST',
    url: () => '/v1/admin/customers',
    body: () => ({ name: 'C', email: `${randomUUID()}@x.io` }),
    expect: adminOnly,
  },
  { method: 'GET', url: () => '/v1/admin/feature-flags', expect: adminOnly },
  {
    method: 'PATCH',
    url: () => '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY',
    body: () => ({ description: 'd' }),
    expect: adminOnly,
  },
  {
    method: 'POST',
    url: () => '/v1/admin/experiments',
    body: () => ({
      key: `auth-${randomUUID()}`,
      arms: [
        { name: 'a', window_minutes: 5, weight: 1 },
        { name: 'b', window_minutes: 10, weight: 1 },
      ],
    }),
    expect: adminOnly,
  },
  { method: 'GET', url: () => '/v1/admin/experiments', expect: adminOnly },
  { method: 'GET', url: () => `/v1/admin/experiments/${experimentKey}`, expect: adminOnly },
  {
    method: 'PATCH',
    url: () => `/v1/admin/experiments/${experimentKey}`,
    body: () => ({ active: false }),
    expect: adminOnly,
  },
  {
    method: 'PUT',
    url: () => '/v1/admin/plans/basic',
    body: () => ({ name: 'Basic', price_cents: 1900, currency: 'EUR' }),
    expect: adminOnly,
  },
  { method: 'GET', url: () => '/v1/admin/plans', expect: adminOnly },
  { method: 'GET', url: () => `/v1/analytics/experiments/${experimentKey}`, expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/revenue?currency=EUR', expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/priority/success-rate', expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/priority/response-times', expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/priority/timeout-rate', expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/priority/fallback-effectiveness', expect: adminOnly },
  { method: 'GET', url: () => '/v1/analytics/priority/skips', expect: adminOnly },
  { method: 'PUT', url: () => `/v1/favorites/${mechanicId}`, expect: customerOnly },
  { method: 'DELETE', url: () => `/v1/favorites/${randomUUID()}`, expect: customerOnly },
  { method: 'GET', url: () => '/v1/favorites', expect: customerOnly },
  { method: 'GET', url: () => `/v1/favorites/status?mechanic_id=${mechanicId}`, expect: customerOnly },
  {
    method: 'POST',
    url: () => '/v1/session-requests',
    body: () => ({ session_type: 'v', plan_code: 'p' }),
    expect: customerOnly,
  },
  { method: 'GET', url: () => '/v1/session-requests', expect: customerOnly },
  { method: 'GET', url: () => `/v1/session-requests/${requestId}`, expect: ownerOnly },
  { method: 'POST', url: () => `/v1/session-requests/${requestId}/cancel`, expect: customerOnly },
  { method: 'POST', url: () => `/v1/session-requests/${requestId}/accept`, expect: mechanicOnly },
  { method: 'POST', url: () => `/v1/session-requests/${requestId}/decline`, expect: mechanicOnly },
  { method: 'GET', url: () => '/v1/mechanics/me/stats', expect: mechanicOnly },
  { method: 'GET', url: () => '/v1/mechanics/me/favorited-by', expect: mechanicOnly },
  { method: 'GET', url: () => '/v1/mechanics/me/availability', expect: mechanicOnly },
  {
    method: 'PUT',
    url: () => '/v1/mechanics/me/availability',
    body: () => ({ available: true }),
    expect: mechanicOnly,
  },
  { method: 'GET', url: () => '/v1/admin/settings/priority', expect: adminOnly },
];

const cases = routes.flatMap((r) =>
  (Object.entries(r.expect) as [Caller, Expect][]).map(([caller, expected]) => ({
    ...r,
    caller,
    expected,
    // A readable path for the test name: the url template without the ids filled in later.
    path: r.url
      .toString()
      .replace(/^\(\) => /, '')
      .replaceAll(/[`'"]/g, ''),
  })),
);

describe('authorization: every route × caller', () => {
  it.each(cases)('$method $path → $caller gets $expected', async ({ method, url, body, caller, expected }) => {
    const token = tokens[caller];
    const res = await h.intake.app.inject({
      method,
      url: url(),
      headers: token ? bearer(token) : {},
      ...(body ? { payload: body() } : {}),
    });
    if (expected === 'ok') {
      expect([200, 201, 204, 503], `${method} ${url()} as ${caller}: ${res.body}`).toContain(res.statusCode);
    } else {
      expect(res.statusCode, `${method} ${url()} as ${caller}: ${res.body}`).toBe(expected);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      if (expected === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });
});

// CONTRACT §3: identity and role are checked before the body is read, so a refused caller gets
// its 401/403 whatever it sent — here a body that is not even JSON, and one of the wrong shape.
const refusals = cases.filter(
  (c) => c.method !== 'GET' && c.method !== 'DELETE' && (c.expected === 401 || c.expected === 403),
);

describe('identity and role before the body', () => {
  it.each(refusals)('$method $path → $caller gets $expected with a broken body', async (c) => {
    const token = tokens[c.caller];
    for (const payload of ['{"not json', JSON.stringify({ unknown_field: 1, status: 42 })]) {
      const res = await h.intake.app.inject({
        method: c.method,
        url: c.url(),
        headers: { ...(token ? bearer(token) : {}), 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, `${c.method} ${c.url()} as ${c.caller}: ${res.body}`).toBe(c.expected);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
  });
});

describe('token lifetimes', () => {
  it('says a well-signed token without exp has no exp, and refuses one expiring more than 24 h ahead', async () => {
    const owner = await h.customer('Long Lived');
    const noExp = tokenWithoutExp('customer', owner.id);
    const farAhead = await tokenFor('customer', owner.id, 48 * 3600);
    for (const [token, code] of [
      [noExp, 'token_exp_missing'],
      [farAhead, 'token_exp_too_far'],
    ] as const) {
      const res = await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: bearer(token) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code });
    }
    expect(
      (await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: bearer(owner.token) })).statusCode,
    ).toBe(200);
  });
});
