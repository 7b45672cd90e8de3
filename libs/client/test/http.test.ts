import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DibsApiError, DibsNetworkError, type SessionRequest } from '../src/index.js';
import { type ClientStack, type Person, startClientStack } from './support/stack.js';

// The SDK's HTTP calls against the real intake (and routing and analytics behind it): every route
// of CONTRACT §3, §6, §7 through its typed method, and refusals as DibsApiError.
let s: ClientStack;
let ann: Person;
let bob: Person;
let dana: Person;

beforeAll(async () => {
  s = await startClientStack({ minuteMs: 1000 });
  await s.enablePriority();
  [ann, bob, dana] = [await s.mechanic('Ann'), await s.mechanic('Bob'), await s.customer('Dana Driver')];
});
afterAll(async () => {
  await s?.close();
});

/** The refusal `promise` ends with. */
async function refusal(promise: Promise<unknown>): Promise<DibsApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DibsApiError);
  return err as DibsApiError;
}

const video = { session_type: 'video', plan_code: 'basic' };
const until = (id: string, ok: (r: SessionRequest) => boolean) =>
  eventually(async () => {
    const r = await dana.api.sessionRequests.get(id);
    return ok(r) && r;
  });

describe('admin', () => {
  it('manages mechanics, customers, flags and window settings', async () => {
    const { admin } = s.admin;
    const created = await admin.mechanics.create({
      first_name: 'Cy',
      last_name: 'Ng',
      email: `${randomUUID()}@ex.com`,
    });
    expect(created).toMatchObject({ status: 'pending', priority_window_minutes: null });
    expect(await admin.mechanics.update(created.id, { status: 'approved', priority_window_minutes: 7 })).toMatchObject({
      status: 'approved',
      priority_window_minutes: 7,
    });
    expect(await admin.mechanics.get(created.id)).toMatchObject({ id: created.id, status: 'approved' });
    expect((await admin.mechanics.list()).map((m) => m.id)).toContain(created.id);
    await admin.mechanics.delete(created.id);
    expect((await refusal(admin.mechanics.get(created.id))).status).toBe(404);

    const customer = await admin.customers.create({ name: 'Eve Ray', email: `${randomUUID()}@ex.com` });
    expect(await admin.customers.get(customer.id)).toEqual(customer);
    const dup = await refusal(admin.customers.create({ name: 'Eve', email: customer.email }));
    expect(dup).toMatchObject({ status: 409, code: 'duplicate_email' });

    const flags = await admin.flags.list();
    expect(flags.find((f) => f.flag_key === 'ENABLE_FAVORITES_PRIORITY')).toMatchObject({ is_enabled: true });
    expect(
      await admin.flags.update('ENABLE_FAVORITES_PRIORITY', { rollout_percentage: 100, description: 'on' }),
    ).toMatchObject({ is_enabled: true, rollout_percentage: 100, description: 'on' });

    expect(await admin.settings.priority()).toMatchObject({
      default_window_minutes: 10,
      skip_offline_favorites: false,
    });
    const changed = await admin.settings.updatePriority({ tier_windows_minutes: [4, 3, 2] });
    expect(changed.tier_windows_minutes).toEqual([4, 3, 2]);
    expect((await admin.settings.priority()).tier_windows_minutes).toEqual([4, 3, 2]);
  });

  it('manages experiments and plans', async () => {
    const { admin } = s.admin;
    const key = `win-${Date.now().toString(36)}`;
    const arms = [
      { name: 'short', window_minutes: 3, weight: 1 },
      { name: 'long', window_minutes: 12, weight: 1 },
    ];
    const created = await admin.experiments.create({ key, arms });
    expect(created).toMatchObject({ key, arms, active: false });
    expect(await admin.experiments.setActive(key, true)).toMatchObject({ active: true });
    expect(await admin.experiments.get(key)).toMatchObject({ active: true });
    expect((await admin.experiments.list()).map((e) => e.key)).toContain(key);
    const second = await refusal(admin.experiments.create({ key: `${key}-2`, arms, active: true }));
    expect(second).toMatchObject({ status: 409, code: 'experiment_active' });
    await admin.experiments.setActive(key, false);

    expect(await admin.plans.put('basic', { name: 'Basic', price_cents: 2500, currency: 'EUR' })).toMatchObject({
      code: 'basic',
      price_cents: 2500,
    });
    expect((await admin.plans.list()).map((p) => p.code)).toEqual(['basic']);
  });
});

describe('customer and mechanic', () => {
  it('favorites, ranks, books (single and sequence), lists, reads and cancels', async () => {
    const fav = dana.api.favorites;
    expect(await fav.add(ann.id)).toEqual({ mechanic_id: ann.id, favorite: true, created: true });
    expect(await fav.add(ann.id)).toEqual({ mechanic_id: ann.id, favorite: true, created: false });
    await fav.add(bob.id);
    expect(await fav.status(ann.id)).toEqual({ isFavorite: true });
    const ranked = await fav.setOrder([bob.id, ann.id]);
    expect(ranked.map((f) => [f.mechanic_id, f.rank])).toEqual([
      [bob.id, 1],
      [ann.id, 2],
    ]);
    expect((await fav.list()).map((f) => f.mechanic_id)).toEqual([bob.id, ann.id]);

    const single = await dana.api.sessionRequests.book({ ...video, preferred_mechanic_id: ann.id });
    expect(single).toMatchObject({
      status: 'pending',
      routing_type: 'priority_broadcast',
      preferred_mechanic_id: ann.id,
    });
    const sequence = await dana.api.sessionRequests.bookSequence(video);
    expect(sequence).toMatchObject({ routing_type: 'priority_sequence', preferred_mechanic_id: bob.id });
    await until(sequence.id, (r) => r.current_tier === 1);

    expect((await dana.api.sessionRequests.get(single.id)).id).toBe(single.id);
    const page = await dana.api.sessionRequests.list({ limit: 1 });
    expect(page.items.map((r) => r.id)).toEqual([sequence.id]);
    expect(page.next_cursor).toEqual(expect.any(String));
    const all = [];
    for await (const r of dana.api.sessionRequests.all({ status: 'pending', limit: 1 })) all.push(r.id);
    expect(all).toEqual([sequence.id, single.id]);

    expect(await dana.api.sessionRequests.cancel(sequence.id)).toMatchObject({ status: 'cancelled' });
    await fav.remove(bob.id);
    expect(await fav.status(bob.id)).toEqual({ isFavorite: false });

    // Ann wins her priority offer over HTTP; Bob, outside it, is refused.
    await until(single.id, (r) => r.priority_notified_at !== null);
    const early = await refusal(bob.api.sessionRequests.accept(single.id));
    expect(early).toMatchObject({ status: 409, code: 'priority_window_active' });
    expect(await ann.api.sessionRequests.accept(single.id)).toMatchObject({ status: 'accepted', mechanic_id: ann.id });
    const late = await refusal(dana.api.sessionRequests.cancel(single.id));
    expect(late.status).toBe(409);
  });

  it("declines, and reads and sets a mechanic's availability, stats and who favorited them", async () => {
    const booked = await dana.api.sessionRequests.book({ ...video, preferred_mechanic_id: ann.id });
    await until(booked.id, (r) => r.priority_notified_at !== null);
    expect(await ann.api.sessionRequests.decline(booked.id)).toMatchObject({ id: booked.id });
    await until(booked.id, (r) => r.fallback_reason === 'priority_declined');

    expect(await ann.api.mechanics.availability()).toEqual({ available: true, schedule: null, timezone: 'UTC' });
    const schedule = [{ day: 1, from: '08:00', to: '17:30' }];
    expect(await ann.api.mechanics.setAvailability({ available: false, schedule, timezone: 'Europe/Paris' })).toEqual({
      available: false,
      schedule,
      timezone: 'Europe/Paris',
    });
    await ann.api.mechanics.setAvailability({ available: true });

    // Ranked 2nd, then 1st since Dana removed Bob (the ranked favorites after one removed move up).
    expect(await ann.api.mechanics.favoritedBy()).toEqual([
      { customer_id: dana.id, first_name: 'Dana', favorited_at: expect.any(String), rank: 1 },
    ]);
    const stats = await eventually(async () => {
      const st = await ann.api.mechanics.stats();
      return st.priority_requests >= 2 && st;
    });
    expect(stats).toMatchObject({ favorited_by: 1, priority_accepted: 1, earnings_cents: 2500 });
  });
});

describe('analytics', () => {
  it('reads every report, parsed with its schema', async () => {
    const { analytics } = s.admin;
    await eventually(async () => (await analytics.timeoutRate()).total_priority_requests >= 2);
    expect(await analytics.successRate({ min_requests: 1 })).toContainEqual(
      expect.objectContaining({ mechanic_id: ann.id, accepted_by_preferred: 1 }),
    );
    expect((await analytics.responseTimes()).avg_response_minutes).toEqual(expect.any(Number));
    expect(await analytics.fallbackEffectiveness()).toMatchObject({ total_fallbacks: expect.any(Number) });
    expect(await analytics.skips()).toMatchObject({ by_mechanic: expect.any(Array) });
    const revenue = await analytics.revenue({ from: new Date(Date.now() - 3_600_000).toISOString() });
    expect(revenue.by_path.find((p) => p.path === 'priority_accepted')).toMatchObject({ revenue_cents: 2500 });

    const key = `rep-${Date.now().toString(36)}`;
    await s.admin.admin.experiments.create({
      key,
      arms: [
        { name: 'a', window_minutes: 2, weight: 1 },
        { name: 'b', window_minutes: 4, weight: 1 },
      ],
    });
    expect((await analytics.experiment(key)).arms.map((a) => [a.name, a.requests])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
  });
});

describe('errors', () => {
  it('turns problem+json into DibsApiError with status, code, title, detail and the invalid fields', async () => {
    const invalid = await refusal(dana.api.sessionRequests.book({ session_type: '', plan_code: 'basic' }));
    expect(invalid).toMatchObject({ status: 400, code: 'validation_failed', title: expect.any(String) });
    expect(invalid.errors).toContainEqual(expect.objectContaining({ in: 'body', field: 'session_type' }));
    expect(invalid.detail).toContain('session_type');

    const other = await s.customer('Fay');
    const none = await refusal(other.api.sessionRequests.bookSequence(video));
    expect(none).toMatchObject({ status: 422, code: 'no_ranked_favorites' });
    const notFav = await refusal(other.api.favorites.setOrder([ann.id]));
    expect(notFav).toMatchObject({ status: 400, code: 'not_a_favorite' });

    expect(await refusal(ann.api.favorites.list())).toMatchObject({ status: 403 });
    const expired = s.api(await tokenFor('customer', dana.id, -10));
    expect(await refusal(expired.favorites.list())).toMatchObject({ status: 401 });
    expect(await refusal(dana.api.sessionRequests.get(randomUUID()))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('turns an answer that is not problem+json (a proxy page) into DibsApiError `http_<status>`', async () => {
    // What a load balancer in front of intake answers on its own.
    const proxy = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>no route to host</body></html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const err = await refusal(s.api(dana.token, { baseUrl: `http://127.0.0.1:${port}` }).favorites.list());
      expect(err).toMatchObject({ status: 404, code: 'http_404', detail: expect.stringContaining('no route to host') });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('reports an unreachable API as DibsNetworkError after its retries', async () => {
    const retries: number[] = [];
    const api = s.api(dana.token, { baseUrl: 'http://127.0.0.1:9', onRetry: (r) => retries.push(r.attempt) });
    await expect(api.favorites.list()).rejects.toBeInstanceOf(DibsNetworkError);
    expect(retries).toEqual([1, 2, 3]);
    // A call that may have done something is not repeated after a network error.
    retries.length = 0;
    await expect(api.sessionRequests.cancel(randomUUID())).rejects.toBeInstanceOf(DibsNetworkError);
    expect(retries).toEqual([]);
  });
});
