import fc from 'fast-check';
import { isoTime, type Json, JsonObject, validText } from './hostile.js';
import type { RouteFuzz } from './requests.js';

// What the HTTP fuzzing (fuzz.test.ts) knows of each of intake's routes.

export const uuid = fc.uuid();
const windowMinutes = fc.integer({ min: 1, max: 120 });
/** An experiment's key as the API takes it. */
export const experimentKey = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
/** A plan code a booking may carry, URL-encoded into at most 100 characters (Fastify's bound on a parameter). */
export const planCode = fc
  .stringMatching(/^[A-Za-z0-9]([A-Za-z0-9 _.-]{0,30}[A-Za-z0-9])?$/)
  .map((code) => encodeURIComponent(code));
const experimentArms = fc
  .uniqueArray(
    fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9 ]{0,10}[a-z0-9]$/),
      window_minutes: windowMinutes,
      weight: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double({ min: 0.01, max: 1000, noNaN: true })),
    }),
    { minLength: 2, maxLength: 4, selector: (arm) => arm.name },
  )
  .map((arms) =>
    arms.map(
      (arm) =>
        new JsonObject([
          ['name', arm.name],
          ['window_minutes', arm.window_minutes],
          ['weight', arm.weight],
        ]),
    ),
  );
const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const text = (max: number) => validText(max) as fc.Arbitrary<Json>;
const email = fc.oneof(
  uuid.map((u) => `${u}@example.com`),
  fc.emailAddress(),
) as fc.Arbitrary<Json>;

/**
 * One entry per route the app serves (`METHOD path` as Fastify's route table prints it). A route
 * added without an entry here fails the first test of fuzz.test.ts.
 */
export const ROUTES: Record<string, RouteFuzz> = {
  'GET /healthz': { role: 'public' },
  'GET /readyz': { role: 'public' },
  'GET /metrics': { role: 'public' },
  'GET /docs': { role: 'public' },
  'GET /docs/': { role: 'public' },
  'GET /docs/*': { role: 'public' },
  'GET /docs/json': { role: 'public' },
  'GET /docs/yaml': { role: 'public' },
  'GET /docs/static/index.html': { role: 'public' },
  'GET /docs/static/swagger-initializer.js': { role: 'public' },
  // @fastify/cors' preflight route: a browser's preflight from an allowed origin, else a 404.
  'OPTIONS *': { role: 'public' },
  'POST /v1/admin/mechanics': {
    role: 'admin',
    body: fc.record({ first_name: text(100), last_name: text(100), email }),
  },
  'GET /v1/admin/mechanics': { role: 'admin' },
  'GET /v1/admin/mechanics/:id': { role: 'admin', params: { id: 'mechanic' } },
  'PATCH /v1/admin/mechanics/:id': {
    role: 'admin',
    params: { id: 'mechanic' },
    body: fc.record(
      {
        status: fc.constantFrom('approved', 'pending', 'suspended'),
        priority_window_minutes: fc.option(windowMinutes),
      },
      { requiredKeys: ['status'] },
    ),
  },
  // Only mechanics made for it are deleted: the fixtures' tokens must keep naming existing rows.
  'DELETE /v1/admin/mechanics/:id': { role: 'admin', params: { id: 'victim' } },
  'POST /v1/admin/customers': { role: 'admin', body: fc.record({ name: text(200), email }) },
  'GET /v1/admin/customers/:id': { role: 'admin', params: { id: 'customer' } },
  'GET /v1/admin/feature-flags': { role: 'admin' },
  'PATCH /v1/admin/feature-flags/:flag_key': {
    role: 'admin',
    params: { flag_key: 'flag' },
    body: fc.record(
      {
        is_enabled: fc.boolean(),
        enabled_for_roles: fc.subarray(['customer', 'mechanic', 'admin']),
        rollout_percentage: fc.integer({ min: 0, max: 100 }),
        description: fc.option(text(1000)),
      },
      { requiredKeys: [] },
    ),
  },
  'GET /v1/admin/settings/priority': { role: 'admin' },
  'PATCH /v1/admin/settings/priority': {
    role: 'admin',
    body: fc.record(
      {
        default_window_minutes: fc.option(windowMinutes),
        tier_windows_minutes: fc.array(windowMinutes, { minLength: 1, maxLength: 3 }),
        skip_offline_favorites: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  },
  'POST /v1/admin/experiments': {
    role: 'admin',
    body: fc.record(
      { key: experimentKey, arms: experimentArms, active: fc.boolean() },
      { requiredKeys: ['key', 'arms'] },
    ),
  },
  'GET /v1/admin/experiments': { role: 'admin' },
  'GET /v1/admin/experiments/:key': { role: 'admin', params: { key: 'experiment' } },
  'PATCH /v1/admin/experiments/:key': {
    role: 'admin',
    params: { key: 'experiment' },
    body: fc.record({ active: fc.boolean() }),
  },
  'PUT /v1/admin/plans/:code': {
    role: 'admin',
    params: { code: 'plan' },
    body: fc.record({
      name: text(100),
      price_cents: fc.integer({ min: 0, max: 2_147_483_647 }),
      currency: fc.oneof(fc.constantFrom('EUR', 'USD', 'GBP'), fc.stringMatching(/^[A-Z]{3}$/)),
    }),
  },
  'GET /v1/admin/plans': { role: 'admin' },
  'GET /v1/analytics/experiments/:key': { role: 'admin', params: { key: 'experiment' } },
  'GET /v1/analytics/revenue': {
    role: 'admin',
    query: { from: isoTime, to: isoTime, currency: fc.constantFrom('EUR', 'USD', 'eur', 'EURO') },
  },
  'GET /v1/analytics/priority/success-rate': {
    role: 'admin',
    query: { from: isoTime, to: isoTime, min_requests: fc.nat({ max: 1000 }).map(String) },
  },
  'GET /v1/analytics/priority/response-times': { role: 'admin', query: { from: isoTime, to: isoTime } },
  'GET /v1/analytics/priority/timeout-rate': { role: 'admin', query: { from: isoTime, to: isoTime } },
  'GET /v1/analytics/priority/fallback-effectiveness': { role: 'admin', query: { from: isoTime, to: isoTime } },
  'GET /v1/analytics/priority/skips': { role: 'admin', query: { from: isoTime, to: isoTime } },
  'GET /v1/mechanics/me/availability': { role: 'mechanic' },
  'PUT /v1/mechanics/me/availability': {
    role: 'mechanic',
    body: fc.record(
      {
        available: fc.boolean(),
        schedule: fc.option(
          fc.array(
            fc
              .record({ day: fc.integer({ min: 0, max: 6 }), from: fc.integer({ min: 0, max: 1438 }), span: fc.nat(1) })
              .map(
                ({ day, from, span }) =>
                  new JsonObject([
                    ['day', day],
                    ['from', hhmm(from)],
                    ['to', hhmm(from + 1 + span)],
                  ]),
              ),
            { maxLength: 7 },
          ),
        ),
        timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
      },
      { requiredKeys: ['available'] },
    ),
  },
  'GET /v1/favorites': { role: 'customer' },
  'GET /v1/favorites/status': { role: 'customer', query: { mechanic_id: uuid } },
  'PUT /v1/favorites/:mechanic_id': { role: 'customer', params: { mechanic_id: 'mechanic' } },
  'PUT /v1/favorites/order': {
    role: 'customer',
    body: fc.record({ mechanic_ids: fc.uniqueArray(uuid, { minLength: 1, maxLength: 3 }) }),
  },
  'DELETE /v1/favorites/:mechanic_id': { role: 'customer', params: { mechanic_id: 'mechanic' } },
  'POST /v1/session-requests': {
    role: 'customer',
    headers: { 'idempotency-key': fc.string({ minLength: 1, maxLength: 200 }) },
    body: fc.record(
      {
        session_type: text(100),
        plan_code: text(100),
        preferred_mechanic_id: fc.option(uuid),
        routing_type: fc.constantFrom('broadcast', 'priority_broadcast', 'priority_sequence'),
        preferred_workshop_id: fc.option(uuid),
      },
      { requiredKeys: ['session_type', 'plan_code'] },
    ),
  },
  'GET /v1/session-requests': {
    role: 'customer',
    query: {
      status: fc.constantFrom('pending', 'accepted', 'cancelled'),
      limit: fc.integer({ min: 1, max: 100 }).map(String),
      cursor: fc.base64String({ maxLength: 80 }),
    },
  },
  'GET /v1/session-requests/:id': { role: 'customer', params: { id: 'request' } },
  'POST /v1/session-requests/:id/cancel': { role: 'customer', params: { id: 'request' } },
  'POST /v1/session-requests/:id/accept': { role: 'mechanic', params: { id: 'request' } },
  'POST /v1/session-requests/:id/decline': { role: 'mechanic', params: { id: 'request' } },
  'GET /v1/mechanics/me/stats': { role: 'mechanic' },
  'GET /v1/mechanics/me/favorited-by': { role: 'mechanic' },
  'GET /v1/mechanics': {
    role: 'customer_or_admin',
    query: {
      query: fc.oneof(fc.constantFrom('', 'max', 'MECH', 'a b', '%', '_', '\\'), fc.string({ maxLength: 100 })),
      limit: fc.integer({ min: 1, max: 100 }).map(String),
      cursor: fc.oneof(
        fc.base64String({ maxLength: 80 }),
        fc
          .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), uuid)
          .map((key) => Buffer.from(JSON.stringify(key)).toString('base64url')),
      ),
    },
  },
};

/**
 * `METHOD path` for every route in Fastify's printed route tree (`printRoutes({commonPrefix:
 * false})`): each line is one node, indented four characters per level, its path relative to its
 * parent's. HEAD is left out where Fastify added it to a GET route.
 */
export function routeTable(tree: string): string[] {
  const routes = new Set<string>();
  const prefixes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    const path = (prefixes[depth - 1] ?? '') + (m[2] as string);
    prefixes.length = depth;
    prefixes[depth] = path;
    const methods = m[3]?.split(', ') ?? [];
    for (const method of methods) {
      if (method !== 'HEAD' || !methods.includes('GET')) routes.add(`${method} ${path}`);
    }
  }
  return [...routes].sort();
}
