import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

let h: IntakeHarness;
let token: string;
beforeAll(async () => {
  h = await startIntake();
  token = (await h.customer()).token;
});
afterAll(async () => {
  await h?.close();
});

const post = (payload: string, headers: Record<string, string> = {}) =>
  h.intake.app.inject({
    method: 'POST',
    url: '/v1/session-requests',
    headers: { ...bearer(token), 'content-type': 'application/json', ...headers },
    payload,
  });

async function rowCount(): Promise<number> {
  return (await h.db.query('select count(*)::int as n from session_requests')).rows[0].n;
}

describe('bad input gets a clear problem+json and writes nothing', () => {
  it.each([
    ['malformed JSON', '{"session_type": "video",', 'invalid_json', ''],
    [
      'an unknown field',
      JSON.stringify({ session_type: 'video', plan_code: 'b', colour: 'red' }),
      'validation_failed',
      '',
    ],
    ['a wrong type', JSON.stringify({ session_type: 42, plan_code: 'b' }), 'validation_failed', 'session_type'],
    ['a missing field', JSON.stringify({ session_type: 'video' }), 'validation_failed', 'plan_code'],
    [
      'a malformed uuid',
      JSON.stringify({ session_type: 'v', plan_code: 'b', preferred_mechanic_id: 'nope' }),
      'validation_failed',
      'preferred_mechanic_id',
    ],
    [
      'an unknown routing type',
      JSON.stringify({ session_type: 'v', plan_code: 'b', routing_type: 'teleport' }),
      'validation_failed',
      'routing_type',
    ],
    ['an empty string', JSON.stringify({ session_type: '', plan_code: 'b' }), 'validation_failed', 'session_type'],
  ])('%s → 400', async (_what, body, code, field) => {
    const before = await rowCount();
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({
      status: 400,
      code,
      title: 'Bad Request',
      type: expect.any(String),
      detail: expect.any(String),
    });
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'body' })]));
    if (field) expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await rowCount()).toBe(before);
  });

  it('names an unknown field in the error', async () => {
    const res = await post(JSON.stringify({ session_type: 'video', plan_code: 'b', colour: 'red' }));
    expect(JSON.stringify(res.json())).toContain('colour');
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const res = await post(JSON.stringify({ session_type: 'v', plan_code: 'x'.repeat(70 * 1024) }));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('answers 400 naming the parameter for a malformed uuid in the path', async () => {
    const res = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/session-requests/not-a-uuid',
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ in: 'params', field: 'id' })]);
  });

  it('answers 404 problem+json for an unknown route', async () => {
    const res = await h.intake.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('never leaks a stack trace', async () => {
    const res = await post('{"a":');
    expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/);
  });
});

describe('service endpoints', () => {
  it('serves /healthz, /readyz, /metrics and the OpenAPI document', async () => {
    expect((await h.intake.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await h.intake.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', nats: 'ok' } });
    const metrics = await h.intake.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('http_request_duration_seconds');
    expect(metrics.body).toContain('dibs_outbox_backlog');
    const doc = await h.intake.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/session-requests', '/v1/favorites/status', '/v1/admin/mechanics']),
    );
    expect((await h.intake.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('echoes or assigns a request id', async () => {
    const res = await h.intake.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    const fresh = await h.intake.app.inject({ method: 'GET', url: '/healthz' });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('text a column cannot store as sent', () => {
  const admin = () => bearer(h.adminToken);
  it.each([
    [
      'session_type',
      'POST',
      '/v1/session-requests',
      'customer',
      { session_type: 'a\u0000b', plan_code: 'p' },
      'body.session_type',
    ],
    [
      'plan_code',
      'POST',
      '/v1/session-requests',
      'customer',
      { session_type: 's', plan_code: '\u0000' },
      'body.plan_code',
    ],
    [
      'a customer name',
      'POST',
      '/v1/admin/customers',
      'admin',
      { name: 'A\u0000', email: 'nul@example.com' },
      'body.name',
    ],
    [
      'a mechanic name',
      'POST',
      '/v1/admin/mechanics',
      'admin',
      { first_name: 'x\u0000', last_name: 'y', email: 'nul-m@example.com' },
      'body.first_name',
    ],
    [
      'a flag description',
      'PATCH',
      '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY',
      'admin',
      { description: 'on\u0000off' },
      'body.description',
    ],
    [
      'the flag key in the path',
      'PATCH',
      '/v1/admin/feature-flags/ENABLE%00X',
      'admin',
      { is_enabled: true },
      'params.flag_key',
    ],
    ['a query value', 'GET', '/v1/session-requests?cursor=a%00b', 'customer', undefined, 'querystring.cursor'],
  ] as const)(
    'U+0000 in %s → 400 naming the field, nothing written',
    async (_what, method, url, who, payload, field) => {
      const before = await rowCounts();
      const res = await h.intake.app.inject({
        method,
        url,
        headers: who === 'admin' ? admin() : bearer(token),
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        code: 'validation_failed',
        detail: expect.stringContaining(`${field}: must not contain U+0000`),
      });
      expect(await rowCounts()).toEqual(before);
    },
  );

  it('refuses a lone surrogate (never stored as U+FFFD), and stores a paired one (emoji) verbatim', async () => {
    const lone = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/customers',
      headers: { ...bearer(h.adminToken), 'content-type': 'application/json' },
      payload: '{"name":"Ann \\ud800","email":"lone@example.com"}',
    });
    expect(lone.statusCode).toBe(400);
    expect(lone.json()).toMatchObject({ errors: [{ in: 'body', field: 'name' }] });
    expect(lone.json().detail).toContain('lone UTF-16 surrogate');
    const emoji = await h.intake.app.inject({
      method: 'POST',
      url: '/v1/admin/customers',
      headers: bearer(h.adminToken),
      payload: { name: 'Ann 🔧 عربى', email: 'emoji@example.com' },
    });
    expect(emoji.statusCode).toBe(201);
    const { rows } = await h.db.query('select name from customers where email = $1', ['emoji@example.com']);
    expect(rows[0].name).toBe('Ann 🔧 عربى');
  });

  async function rowCounts() {
    const { rows } = await h.db.query(
      `select (select count(*) from session_requests)::int as requests, (select count(*) from customers)::int as customers,
              (select count(*) from mechanics)::int as mechanics,
              (select string_agg(coalesce(description, ''), ',') from feature_flags) as flags`,
    );
    return rows[0];
  }
});

describe('errors the router raises are problem+json too', () => {
  it('answers a path parameter over 100 characters with 414', async () => {
    const res = await h.intake.app.inject({
      method: 'GET',
      url: `/v1/session-requests/${'a'.repeat(101)}`,
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 414, title: 'URI Too Long', code: 'uri_too_long' });
  });

  it('answers bad percent-encoding in the path with 400', async () => {
    const res = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/session-requests/%E0%A4%A',
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, title: 'Bad Request', code: 'bad_url' });
  });
});
