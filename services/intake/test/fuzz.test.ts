import { isUtf8 } from 'node:buffer';
import { createHmac, randomUUID } from 'node:crypto';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import {
  ANALYTICS_REPORT_SCHEMAS,
  ANALYTICS_REPORTS,
  type AnalyticsReport,
  CancelCommandSchema,
  MechanicCommandSchema,
  natsNames,
} from '@dibs/contracts';
import { type SessionRequestRecord, toSessionRequest } from '@dibs/db';
import { tableChecksums, tokenFor, tokenWithoutExp } from '@dibs/testing';
import type { Subscription } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { rawExchange, rawRequests } from './fuzz/raw-http.js';
import {
  type Caller,
  type FuzzRequest,
  gateAnswer,
  type ParamKind,
  type RouteFuzz,
  requestsFor,
  unroutedRequests,
} from './fuzz/requests.js';
import { experimentKey, planCode, ROUTES, routeTable, uuid } from './fuzz/routes.js';
import { type IntakeHarness, startIntake } from './harness.js';

// CONTRACT §3 under hostile input (issue 10 §3): every route of the app's own route table, every
// kind of caller, random and hostile paths, queries, headers and bodies. Whatever comes in: no
// 5xx, every error problem+json with its status, nothing written by a refused request, the gate
// answering 401/403 before anything else, and /readyz still 200 at the end.
// FUZZ_SEED replays another seed; FUZZ_RUNS scales the number of runs.

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_510);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

let h: IntakeHarness;
const tokens = {} as Record<Caller, string | undefined>;
const pools = {} as Record<ParamKind, string[]>;
const stubs: Subscription[] = [];
/** Commands and report queries that reached the stand-ins for routing and analytics off their contract. */
const offContract: unknown[] = [];
/** Every table's checksum: a refused request must leave them all as they were. */
let snapshot: () => Promise<Record<string, string>>;

beforeAll(async () => {
  // No relay: nothing but the requests under test writes to the database while they run.
  h = await startIntake({ relay: false });
  const owner = await h.customer('Owner Fuzz');
  const other = await h.customer('Other Fuzz');
  const mechanic = await h.mechanic();
  const pending = await h.mechanic('pending');
  const victims = await Promise.all([1, 2, 3, 4].map(() => h.mechanic()));
  // The owner ranks a favorite and the other customer has none: a priority_sequence booking is
  // fuzzed into both a plan and the 422 (no_ranked_favorites). The favorite is in no pool, so no
  // fuzzed request removes it.
  const favorite = await h.mechanic();
  for (const [url, payload] of [
    [`/v1/favorites/${favorite.id}`, undefined],
    ['/v1/favorites/order', { mechanic_ids: [favorite.id] }],
  ] as const) {
    const res = await h.intake.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: `Bearer ${owner.token}` },
      ...(payload ? { payload } : {}),
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
  }
  // An experiment that runs (bookings get enrolled) and one that does not; two plans in two
  // currencies, so that a revenue report without `currency` is the 409 (mixed_currencies).
  const arms = [
    { name: 'short', window_minutes: 3, weight: 1 },
    { name: 'long', window_minutes: 12, weight: 1 },
  ];
  for (const [key, active] of [
    ['fuzz-running', true],
    ['fuzz-waiting', false],
  ] as const) {
    await h.db.query('insert into experiments (key, arms, active) values ($1, $2, $3)', [
      key,
      JSON.stringify(arms),
      active,
    ]);
  }
  await h.db.query(`insert into plans (code, name, price_cents, currency) values
    ('basic', 'Basic', 1900, 'EUR'), ('premium', 'Premium', 4900, 'USD')`);
  const requests: string[] = [];
  for (const who of [owner, owner, other]) {
    const res = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: { authorization: `Bearer ${who.token}` },
      payload: { session_type: 'video', plan_code: 'basic' },
    });
    requests.push(res.json().id);
  }
  Object.assign(pools, {
    request: requests,
    mechanic: [mechanic.id, pending.id],
    victim: victims.map((v) => v.id),
    customer: [owner.id, other.id],
    flag: ['ENABLE_FAVORITES_PRIORITY'],
    experiment: ['fuzz-running', 'fuzz-waiting'],
    plan: ['basic', 'premium'],
    rest: [],
  } satisfies Record<ParamKind, string[]>);

  const forger = createTokenService('a-different-secret-that-is-long-enough-1234');
  Object.assign(tokens, {
    admin: h.adminToken,
    customer: owner.token,
    other_customer: other.token,
    mechanic: mechanic.token,
    pending_mechanic: pending.token,
    ghost_customer: await tokenFor('customer', randomUUID()),
    ghost_mechanic: await tokenFor('mechanic', randomUUID()),
    none: undefined,
    expired: await tokenFor('admin', randomUUID(), -60),
    forged: await forger.sign({ sub: owner.id, role: 'admin' }),
    no_exp: tokenWithoutExp('admin', randomUUID()),
    far_exp: await tokenFor('admin', randomUUID(), 48 * 3600),
    alg_none: unsigned({ alg: 'none', typ: 'JWT' }, { sub: randomUUID(), role: 'admin', exp: inAnHour() }),
    odd_claims: signed({ sub: '1 OR 1=1', role: 'root', exp: inAnHour() }),
  } satisfies Record<Caller, string | undefined>);

  stubRoutingAndAnalytics();
  snapshot = await tableChecksums(h.db);
});

afterAll(async () => {
  for (const s of stubs) s.unsubscribe();
  await h?.close();
});

describe('fuzzing every HTTP route', () => {
  it('has a generator for every route the app serves, and a route for every generator', () => {
    const served = routeTable(h.intake.app.printRoutes({ commonPrefix: false }));
    expect(
      served.filter((r) => !ROUTES[r]),
      'routes without a generator in ROUTES',
    ).toEqual([]);
    expect(
      Object.keys(ROUTES).filter((r) => !served.includes(r)),
      'generators for routes the app does not serve',
    ).toEqual([]);
    for (const [route, spec] of Object.entries(ROUTES)) {
      for (const [, name] of route.matchAll(/:(\w+)/g)) expect(spec.params, route).toHaveProperty(name as string);
    }
  });

  it.each(Object.keys(ROUTES))('%s: hostile requests get < 500, problem+json errors, no writes', async (route) => {
    const [method, path] = route.split(' ') as [string, string];
    const spec = ROUTES[route] as RouteFuzz;
    await fc.assert(
      fc.asyncProperty(requestsFor(method, path, spec, validParam), (req) => check(req, spec)),
      runs(spec.role === 'public' ? 50 : 150),
    );
  });

  it('requests to paths no route serves get problem+json too', async () => {
    await fc.assert(
      fc.asyncProperty(unroutedRequests(), (req) => check(req, { role: 'public' })),
      runs(300),
    );
  });

  it('raw HTTP over a socket (over-long request lines and headers, broken syntax) gets problem+json', async () => {
    if (!h.intake.app.server.listening) await h.intake.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.intake.app.server.address() as { port: number };
    await fc.assert(
      fc.asyncProperty(rawRequests(Object.keys(ROUTES)), async (raw) => {
        const res = await rawExchange(port, raw);
        expect(res.status, res.head).toBeLessThan(500);
        if (res.status >= 400) expectProblem(res.status, res.contentType, res.body, raw.startsWith('HEAD '));
      }),
      runs(200),
    );
  });

  it('forwarded only well-formed commands and report queries to routing and analytics', () => {
    expect(offContract).toEqual([]);
  });

  it('is still alive and ready after the fuzzing', async () => {
    const ready = await h.intake.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready' });
    const booked = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/session-requests',
      headers: { authorization: `Bearer ${tokens.customer}` },
      payload: { session_type: 'video', plan_code: 'basic' },
    });
    expect(booked.statusCode).toBe(201);
  });
});

/** Sends one request and checks every property the contract promises for it. */
async function check(req: FuzzRequest, spec: RouteFuzz): Promise<void> {
  const authorization = req.caller === 'garbage' ? req.rawAuthorization : tokens[req.caller];
  const before = await snapshot();
  const res = await h.intake.app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers: { ...req.headers, ...(authorization ? { authorization: bearerOr(req, authorization) } : {}) },
    ...(req.payload !== undefined ? { payload: req.payload } : {}),
  });
  const status = res.statusCode;
  expect(status, res.body).toBeLessThan(500);
  if (status >= 400) {
    expectProblem(status, res.headers['content-type'], res.body, req.method === 'HEAD');
    expect(await snapshot(), `${status} ${res.body} must not write`).toEqual(before);
  }
  const gate = req.routable ? gateAnswer(spec.role, req.caller) : undefined;
  if (gate === 'pass') expect([401, 403], res.body).not.toContain(status);
  else if (gate !== undefined) expect(status, res.body).toBe(gate);
  // JSON that is not UTF-8 is refused, never stored with U+FFFD in place of its bad bytes.
  const json = /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');
  if (gate === 'pass' && spec.body && json && Buffer.isBuffer(req.payload) && !isUtf8(req.payload)) {
    expect(res.json()).toMatchObject({ status: 400, code: 'invalid_json' });
  }
}

function expectProblem(status: number, contentType: unknown, body: string, head: boolean): void {
  expect(contentType, body).toMatch(/^application\/problem\+json/);
  if (head) return;
  expect(body).not.toMatch(/at .*\.(js|ts):\d+/);
  expect(JSON.parse(body)).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code: expect.any(String),
  });
}

const bearerOr = (req: FuzzRequest, token: string) => (req.caller === 'garbage' ? token : `Bearer ${token}`);

function validParam(kind: ParamKind): fc.Arbitrary<string> {
  if (kind === 'rest') {
    return fc.constantFrom('static/index.html', 'static/swagger-ui.css', 'favicon-32x32.png', 'x', 'static/');
  }
  // Beside the pool's own, values of the parameter's form that name nothing.
  const unknown: Partial<Record<ParamKind, fc.Arbitrary<string>>> = {
    flag: fc.constant('NO_SUCH_FLAG'),
    experiment: experimentKey,
    plan: planCode,
  };
  return fc.oneof(fc.constantFrom(...(pools[kind] as string[])), unknown[kind] ?? uuid);
}

/** Routing and analytics stand-ins: answer like the real services for ids they do not know, and record any message off its contract. */
function stubRoutingAndAnalytics(): void {
  const names = natsNames(h.prefix);
  const answer = <S extends z.ZodType>(subject: string, schema: S, reply: (body: z.infer<S>) => Promise<unknown>) => {
    stubs.push(
      h.nc.subscribe(subject, {
        callback: (_err, msg) => {
          void (async () => {
            let body: unknown;
            try {
              body = msg.json();
            } catch {
              body = msg.string();
            }
            const parsed = schema.safeParse(body);
            if (!parsed.success) {
              offContract.push({ subject, body });
              msg.respond(JSON.stringify({ ok: false, code: 'invalid_command' }));
              return;
            }
            msg.respond(JSON.stringify(await reply(parsed.data)));
          })();
        },
      }),
    );
  };
  const known = async ({ request_id }: { request_id: string }) => {
    const { rows } = await h.db.query<SessionRequestRecord>('select * from session_requests where id = $1', [
      request_id,
    ]);
    return rows[0] ? { ok: true, request: toSessionRequest(rows[0]) } : { ok: false, code: 'not_found' };
  };
  answer(names.subjects.routingCommand('accept'), MechanicCommandSchema, known);
  answer(names.subjects.routingCommand('decline'), MechanicCommandSchema, known);
  answer(names.subjects.routingCommand('cancel'), CancelCommandSchema, known);
  const data = {
    success_rate: [],
    response_times: { avg_response_minutes: null, min_response_minutes: null, max_response_minutes: null },
    timeout_rate: { total_priority_requests: 0, timed_out: 0, timeout_rate: 0 },
    fallback_effectiveness: { total_fallbacks: 0, accepted_after_fallback: 0, fallback_success_rate: 0 },
    mechanic_stats: {
      favorited_by: 0,
      priority_requests: 0,
      priority_accepted: 0,
      priority_acceptance_rate: 0,
      avg_priority_response_seconds: null,
      repeat_customers: 0,
      earnings_cents: 0,
      earnings_from_favorites_cents: 0,
      earnings_currency: null,
      earnings_by_currency: [],
      avg_seen_seconds: null,
      offers_never_seen: 0,
    },
    priority_skips: { priority_requests: 0, requests_with_skips: 0, skip_rate: 0, by_mechanic: [] },
  };
  // Like analytics: an experiment it does not know is not_found; a period priced in several
  // currencies needs one named.
  const replies: { [R in AnalyticsReport]?: (query: never) => Promise<unknown> } = {
    async experiment({ key }: { key: string }) {
      const { rows } = await h.db.query<{ arms: { name: string; window_minutes: number }[] }>(
        'select arms from experiments where key = $1',
        [key],
      );
      if (!rows[0]) return { ok: false, code: 'not_found' };
      const arms = rows[0].arms.map(({ name, window_minutes }) => ({
        name,
        window_minutes,
        requests: 0,
        accepted_by_preferred: 0,
        acceptance_rate: null,
        acceptance_rate_ci95: null,
        avg_response_seconds: null,
        timeout_rate: null,
        median_seconds_to_any_accept: null,
      }));
      return { ok: true, data: { key, arms } };
    },
    async revenue({ currency }: { currency?: string }) {
      const { rows } = await h.db.query<{ n: number }>('select count(distinct currency)::int as n from plans');
      if (currency === undefined && (rows[0]?.n ?? 0) > 1) return { ok: false, code: 'mixed_currencies' };
      return {
        ok: true,
        data: {
          currency: currency ?? null,
          by_path: [],
          favorite_customers_ltv_cents: null,
          other_customers_ltv_cents: null,
          unpriced_requests: 0,
        },
      };
    },
  };
  for (const report of ANALYTICS_REPORTS) {
    const reply = replies[report] as ((query: unknown) => Promise<unknown>) | undefined;
    answer(names.subjects.analyticsReport(report), ANALYTICS_REPORT_SCHEMAS[report].query, async (query) =>
      reply ? reply(query) : { ok: true, data: data[report as keyof typeof data] },
    );
  }
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function unsigned(header: object, claims: object): string {
  return `${b64(header)}.${b64(claims)}.`;
}
/** Signed with the tests' secret, whatever the claims say. */
function signed(claims: object): string {
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', DEV_JWT_SECRET).update(body).digest('base64url')}`;
}
