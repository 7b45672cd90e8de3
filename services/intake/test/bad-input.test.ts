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
