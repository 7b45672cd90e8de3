import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ANALYTICS_REPORTS,
  contracts,
  EVENT_KINDS,
  EVENT_VERSION,
  eventKindOf,
  natsNames,
  ROUTING_COMMANDS,
  type SessionRequest,
} from '../src/index.js';

const at = '2025-01-01T10:00:00.000Z';
const request: SessionRequest = {
  id: randomUUID(),
  customer_id: randomUUID(),
  customer_name: 'Ada',
  customer_email: 'ada@example.com',
  session_type: 'diagnostic',
  plan_code: 'basic',
  status: 'pending',
  routing_type: 'priority_broadcast',
  preferred_mechanic_id: randomUUID(),
  preferred_workshop_id: null,
  priority_window_minutes: 10,
  priority_notified_at: null,
  priority_expires_at: null,
  broadcast_at: null,
  fallback_reason: null,
  mechanic_id: null,
  accepted_at: null,
  cancelled_at: null,
  created_at: at,
  offers: [],
  current_tier: null,
  experiment: null,
};
const eventOf = (kind: string) => ({ v: EVENT_VERSION, id: randomUUID(), kind, occurred_at: at, request });

describe('contract registry', () => {
  it('has one entry per event kind, routing command and analytics report', () => {
    expect(Object.keys(contracts.events).sort()).toEqual([...EVENT_KINDS].sort());
    expect(Object.keys(contracts.routing).sort()).toEqual([...ROUTING_COMMANDS].sort());
    expect(Object.keys(contracts.analytics).sort()).toEqual([...ANALYTICS_REPORTS].sort());
  });

  it('keeps every shipped subject name (streams, consumers and stored outbox rows refer to them)', () => {
    const subjects = [contracts.events, { seen: contracts.seen }, contracts.routing, contracts.analytics].flatMap(
      (family) => Object.values(family).map((c) => c.subject),
    );
    expect(subjects).toEqual([
      'events.request.created',
      'events.request.priority_notified',
      'events.request.broadcast',
      'events.request.accepted',
      'events.request.declined',
      'events.request.cancelled',
      'events.offer.seen',
      'cmd.routing.accept',
      'cmd.routing.decline',
      'cmd.routing.cancel',
      'cmd.analytics.success_rate',
      'cmd.analytics.response_times',
      'cmd.analytics.timeout_rate',
      'cmd.analytics.fallback_effectiveness',
      'cmd.analytics.mechanic_stats',
      'cmd.analytics.priority_skips',
      'cmd.analytics.experiment',
      'cmd.analytics.revenue',
    ]);
  });

  it('names the same absolute subjects as natsNames', () => {
    const names = natsNames('P');
    for (const kind of EVENT_KINDS) expect(names.abs(contracts.events[kind].subject)).toBe(names.subjects.event(kind));
    for (const cmd of ROUTING_COMMANDS)
      expect(names.abs(contracts.routing[cmd].subject)).toBe(names.subjects.routingCommand(cmd));
    for (const report of ANALYTICS_REPORTS)
      expect(names.abs(contracts.analytics[report].subject)).toBe(names.subjects.analyticsReport(report));
  });

  it('accepts an event of its own kind only, with the envelope defaults filled in', () => {
    const accepted = contracts.events.accepted.payload.parse(eventOf('accepted'));
    expect(accepted).toMatchObject({ kind: 'accepted', actor_mechanic_id: null, notify: [] });
    expect(contracts.events.accepted.payload.safeParse(eventOf('broadcast')).success).toBe(false);
    expect(contracts.events.created.payload.safeParse({ ...eventOf('created'), v: 2 }).success).toBe(false);
  });

  it('types routing commands: a mechanic command for accept/decline, a customer one for cancel', () => {
    const mechanic = { request_id: randomUUID(), mechanic_id: randomUUID() };
    const customer = { request_id: randomUUID(), customer_id: randomUUID() };
    expect(contracts.routing.accept.payload.safeParse(mechanic).success).toBe(true);
    expect(contracts.routing.decline.payload.safeParse(customer).success).toBe(false);
    expect(contracts.routing.cancel.payload.safeParse(customer).success).toBe(true);
    expect(contracts.routing.cancel.reply.safeParse({ ok: true, request }).success).toBe(true);
    expect(contracts.routing.accept.reply.safeParse({ ok: false, code: 'already_taken' }).success).toBe(true);
    expect(contracts.routing.accept.reply.safeParse({ ok: false, code: 'nope' }).success).toBe(false);
  });

  it("checks each analytics report's data against the shape of CONTRACT §3", () => {
    const { analytics } = contracts;
    const row = {
      mechanic_id: randomUUID(),
      mechanic_name: 'Bo Diesel',
      total_priority_requests: 6,
      accepted_by_preferred: 3,
      priority_success_rate: 50,
      avg_seen_seconds: 4.5,
      offers_never_seen: 1,
    };
    expect(analytics.success_rate.reply.parse({ ok: true, data: [row] })).toEqual({ ok: true, data: [row] });
    expect(analytics.success_rate.reply.safeParse({ ok: true, data: row }).success).toBe(false);
    const times = { avg_response_minutes: 1.5, min_response_minutes: null, max_response_minutes: null };
    expect(analytics.response_times.reply.safeParse({ ok: true, data: times }).success).toBe(true);
    expect(analytics.timeout_rate.reply.safeParse({ ok: true, data: times }).success).toBe(false);
    const timeouts = { total_priority_requests: 4, timed_out: 1, timeout_rate: 25 };
    expect(analytics.timeout_rate.reply.safeParse({ ok: true, data: timeouts }).success).toBe(true);
    const fallbacks = { total_fallbacks: 2, accepted_after_fallback: 1, fallback_success_rate: 50 };
    expect(analytics.fallback_effectiveness.reply.safeParse({ ok: true, data: fallbacks }).success).toBe(true);
    const stats = {
      favorited_by: 2,
      priority_requests: 3,
      priority_accepted: 1,
      priority_acceptance_rate: 33.33,
      avg_priority_response_seconds: null,
      repeat_customers: 0,
      earnings_cents: 0,
      earnings_from_favorites_cents: 0,
      earnings_currency: null,
      earnings_by_currency: [],
      avg_seen_seconds: null,
      offers_never_seen: 0,
    };
    expect(analytics.mechanic_stats.reply.safeParse({ ok: true, data: stats }).success).toBe(true);
    const revenue = {
      currency: 'EUR',
      by_path: [{ path: 'priority_accepted', requests: 2, accepted: 1, revenue_cents: 4900 }],
      favorite_customers_ltv_cents: 4900,
      other_customers_ltv_cents: null,
      unpriced_requests: 0,
    };
    expect(analytics.revenue.reply.safeParse({ ok: true, data: revenue }).success).toBe(true);
    expect(analytics.revenue.payload.safeParse({ currency: 'eur' }).success).toBe(false);
    const arm = {
      name: 'short',
      window_minutes: 5,
      requests: 0,
      accepted_by_preferred: 0,
      acceptance_rate: null,
      acceptance_rate_ci95: null,
      avg_response_seconds: null,
      timeout_rate: null,
      median_seconds_to_any_accept: null,
    };
    expect(analytics.experiment.reply.safeParse({ ok: true, data: { key: 'w', arms: [arm] } }).success).toBe(true);
    expect(analytics.mechanic_stats.reply.safeParse({ ok: true, data: {} }).success).toBe(false);
    expect(analytics.mechanic_stats.reply.safeParse({ ok: false, code: 'invalid_command' }).success).toBe(true);
    expect(analytics.mechanic_stats.payload.safeParse({}).success).toBe(false);
    expect(analytics.success_rate.payload.parse({ min_requests: '0' })).toEqual({ min_requests: 0 });
  });

  it('finds the event kind of an absolute subject under its prefix only', () => {
    const kindOf = eventKindOf('P');
    for (const kind of EVENT_KINDS) expect(kindOf(natsNames('P').subjects.event(kind))).toBe(kind);
    expect(kindOf(natsNames('Q').subjects.event('created'))).toBeUndefined();
    expect(kindOf('P.events.request.unknown')).toBeUndefined();
    expect(kindOf('P.events.request.created.extra')).toBeUndefined();
    expect(kindOf('P.cmd.routing.accept')).toBeUndefined();
  });
});
