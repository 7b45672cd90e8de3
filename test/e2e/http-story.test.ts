import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, type Stack, startStack } from './stack.js';

// The seed's story told through the public HTTP API, with intake, routing and analytics running
// against real NATS and PostgreSQL. A window minute lasts 300 ms, so a 10-minute window is 3 s.
const MINUTE_MS = 300;
let s: Stack;
let customer: { id: string; token: string };
let ann: { id: string; token: string };
let bob: { id: string; token: string };
let pending: { id: string; token: string };

beforeAll(async () => {
  s = await startStack(MINUTE_MS);
  customer = await s.customer('Dana Driver');
  ann = await s.mechanic('Ann', 'Lee');
  bob = await s.mechanic('Bob', 'Ray');
  pending = await s.mechanic('Pat', 'New', 'pending');
  expect((await s.http('PUT', `/v1/favorites/${ann.id}`, customer.token)).status).toBe(201);
  const flag = await s.http('PATCH', '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY', s.adminToken, {
    is_enabled: true,
  });
  expect(flag.body.is_enabled).toBe(true);
  // The flag change reaches routing's cache within a second; routing's /metrics shows its cache.
  await flagInRouting(1);
});
afterAll(async () => {
  await s?.close();
});

/** Resolves once routing's cache holds the flag on (1) or off (0), as its /metrics says. */
function flagInRouting(enabled: 0 | 1) {
  return eventually(
    async () =>
      new RegExp(`^routing_priority_flag_enabled(\\{[^}]*\\})? ${enabled}$`, 'm').test(
        (await s.routing.app.inject('/metrics')).body,
      ),
    5000,
    `routing's flag cache at ${enabled}`,
  );
}

async function book(preferred: string | null) {
  const res = await s.http('POST', '/v1/session-requests', customer.token, {
    session_type: 'video',
    plan_code: 'basic',
    ...(preferred ? { preferred_mechanic_id: preferred } : {}),
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const read = async (id: string) => (await s.http('GET', `/v1/session-requests/${id}`, customer.token)).body;
const until = (id: string, ok: (r: Json) => boolean, what: string) =>
  eventually(
    async () => {
      const r = await read(id);
      return ok(r) ? r : undefined;
    },
    15_000,
    what,
  );

describe('favorites priority over HTTP', () => {
  it('offers the favorite first; others get 409 priority_window_active; the favorite wins', async () => {
    const id = await book(ann.id);
    const offered = await until(id, (r) => r.priority_notified_at !== null, 'the priority offer');
    expect(Date.parse(offered.priority_expires_at) - Date.parse(offered.priority_notified_at)).toBe(10 * MINUTE_MS);
    const early = await s.http('POST', `/v1/session-requests/${id}/accept`, bob.token);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('priority_window_active');
    const won = await s.http('POST', `/v1/session-requests/${id}/accept`, ann.token);
    expect(won.status).toBe(200);
    expect(won.body).toMatchObject({
      id,
      status: 'accepted',
      mechanic_id: ann.id,
      broadcast_at: null,
      fallback_reason: null,
    });
    const cancel = await s.http('POST', `/v1/session-requests/${id}/cancel`, customer.token);
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('already_accepted');
  });

  it('broadcasts when the window ends unanswered, never before its deadline; then anyone may win', async () => {
    const id = await book(ann.id);
    const broadcast = await until(id, (r) => r.broadcast_at !== null, 'the fallback broadcast');
    expect(broadcast.fallback_reason).toBe('priority_timeout');
    // Routing was up throughout: at the deadline, at most 1 s late (ARCHITECTURE.md).
    const lateness = Date.parse(broadcast.broadcast_at) - Date.parse(broadcast.priority_expires_at);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(1000);
    const won = await s.http('POST', `/v1/session-requests/${id}/accept`, bob.token);
    expect(won.status).toBe(200);
    const late = await s.http('POST', `/v1/session-requests/${id}/accept`, ann.token);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('already_taken');
  });

  it('ends the window at once when the favorite declines', async () => {
    const id = await book(ann.id);
    await until(id, (r) => r.priority_notified_at !== null, 'the priority offer');
    const declined = await s.http('POST', `/v1/session-requests/${id}/decline`, ann.token);
    expect(declined.status).toBe(200);
    const after = await until(id, (r) => r.broadcast_at !== null, 'the broadcast after the decline');
    expect(after.fallback_reason).toBe('priority_declined');
    expect(Date.parse(after.broadcast_at)).toBeLessThan(Date.parse(after.priority_expires_at));
  });

  it('lets the customer cancel a pending request; nobody can accept it afterwards', async () => {
    const id = await book(null);
    await until(id, (r) => r.broadcast_at !== null, 'the broadcast');
    const cancelled = await s.http('POST', `/v1/session-requests/${id}/cancel`, customer.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(String) });
    const accept = await s.http('POST', `/v1/session-requests/${id}/accept`, bob.token);
    expect(accept.status).toBe(409);
    expect(accept.body.code).toBe('not_pending');
  });

  it('refuses a mechanic who is not approved with 403', async () => {
    const id = await book(null);
    await until(id, (r) => r.broadcast_at !== null, 'the broadcast');
    const res = await s.http('POST', `/v1/session-requests/${id}/accept`, pending.token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('mechanic_not_approved');
  });

  it("answers 404 for another customer's request", async () => {
    const id = await book(null);
    const other = await s.customer('Other');
    expect((await s.http('POST', `/v1/session-requests/${id}/cancel`, other.token)).status).toBe(404);
  });

  it('broadcasts at once with flag_disabled when an admin switches the flag off', async () => {
    await s.http('PATCH', '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY', s.adminToken, { is_enabled: false });
    await flagInRouting(0);
    const id = await book(ann.id);
    const r = await until(id, (x) => x.broadcast_at !== null, 'the broadcast');
    expect(r).toMatchObject({ fallback_reason: 'flag_disabled', priority_notified_at: null });
    await s.http('PATCH', '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY', s.adminToken, { is_enabled: true });
  });

  it('reports the funnel to admins and stats to the mechanic', async () => {
    // Ann: 3 priority windows (accepted, timed out, declined); she accepted one.
    const stats = await eventually(
      async () => {
        const res = await s.http('GET', '/v1/mechanics/me/stats', ann.token);
        return res.status === 200 && res.body.priority_requests === 3 ? res.body : undefined;
      },
      15_000,
      "Ann's stats",
    );
    expect(stats).toMatchObject({
      favorited_by: 1,
      priority_requests: 3,
      priority_accepted: 1,
      priority_acceptance_rate: 33.33,
    });
    expect(stats.avg_priority_response_seconds).toBeGreaterThan(0);

    const rate = await s.http('GET', '/v1/analytics/priority/success-rate?min_requests=1', s.adminToken);
    expect(rate.status).toBe(200);
    expect(rate.body).toEqual([
      {
        mechanic_id: ann.id,
        mechanic_name: 'Ann Lee',
        total_priority_requests: 3,
        accepted_by_preferred: 1,
        priority_success_rate: 33.33,
        // Ann answers over HTTP here, never through an app that acks what it shows (CONTRACT §7).
        avg_seen_seconds: null,
        offers_never_seen: 3,
      },
    ]);
    const timeouts = await s.http('GET', '/v1/analytics/priority/timeout-rate', s.adminToken);
    expect(timeouts.body).toEqual({ total_priority_requests: 3, timed_out: 1, timeout_rate: 33.33 });
    const times = await s.http('GET', '/v1/analytics/priority/response-times', s.adminToken);
    expect(times.body.avg_response_minutes).toBeGreaterThan(0);
    const fallback = await s.http('GET', '/v1/analytics/priority/fallback-effectiveness', s.adminToken);
    expect(fallback.status).toBe(200);
    expect(fallback.body.total_fallbacks).toBeGreaterThanOrEqual(1);
    expect((await s.http('GET', '/v1/analytics/priority/timeout-rate', ann.token)).status).toBe(403);
  });
});
