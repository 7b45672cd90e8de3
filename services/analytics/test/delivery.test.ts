import { natsNames, type RequestEvent } from '@dibs/contracts';
import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  eventually,
  type TestDatabase,
  testPrefix,
} from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Analytics } from '../src/app.js';
import { reportFilter } from '../src/domain/report-query.js';
import { rebuildProjections } from '../src/rebuild-projections.js';
import { expectedFallback, expectedSkips, expectedTimeoutRate } from './support/expected.js';
import {
  allReports,
  finalOfferRows,
  offerRows,
  publishEvents,
  publishRaw,
  silentLogger,
  startAnalytics,
  waitCaughtUp,
} from './support/harness.js';
import { generateHistory, prng } from './support/history.js';

let db: TestDatabase;
let prefix: string;
let nc: NatsConnection;
let analytics: Analytics;

beforeEach(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('and');
  nc = await connectTestNats();
  analytics = await startAnalytics(db, prefix);
});
afterEach(async () => {
  await analytics.close();
  await nc.close();
  await cleanupNats(prefix);
  await db.drop();
});

function shuffle<T>(xs: T[], seed: number): T[] {
  const rnd = prng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The facts each request's final row states: what the read model must hold in the end. */
async function finalFacts(): Promise<unknown[]> {
  const { rows } = await db.query(`
    select id as request_id, created_at, routing_type, preferred_mechanic_id, preferred_workshop_id,
           priority_window_minutes, priority_notified_at, priority_expires_at, broadcast_at, fallback_reason,
           status, mechanic_id, accepted_at, cancelled_at
    from session_requests order by id`);
  return rows;
}

describe('analytics event delivery', () => {
  it('ends with the same read model whatever the order, and however often events arrive', async () => {
    const history = await generateHistory(db, 200, 7);
    // Every event once in a shuffled order (an accepted can come before its created), then a
    // third of them again, shuffled differently and without a message id so the stream keeps them.
    const shuffled = shuffle(history.events, 1);
    const repeats = shuffle(history.events, 2).slice(0, Math.floor(history.events.length / 3));
    await publishEvents(nc, prefix, shuffled);
    await publishEvents(nc, prefix, repeats, { withMsgId: false });
    await waitCaughtUp(prefix);

    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    expect(await offerRows(db)).toEqual(finalOfferRows(history.requests));
    const ledger = await db.query('select count(*)::int as n from analytics_events');
    expect(ledger.rows[0]!.n).toBe(history.events.length);

    // The numbers counted by hand, sequences and skipped favorites included…
    const ids = history.mechanics.map((m) => m.id);
    const shuffledAnswers = await allReports(analytics, ids);
    expect(shuffledAnswers.timeoutRate).toEqual(expectedTimeoutRate(history.requests));
    expect(shuffledAnswers.fallback).toEqual(expectedFallback(history.requests));
    expect(shuffledAnswers.skips).toEqual(expectedSkips(history, history.requests));
    expect(shuffledAnswers.skips.requests_with_skips).toBeGreaterThan(0);
    // …and the same answers as a second analytics fed the same events once, in order.
    await analytics.facts.truncate();
    await analytics.facts.apply(history.events.map((event) => ({ event, seq: null })));
    expect(await allReports(analytics, ids)).toEqual(shuffledAnswers);
  });

  it('a redelivered event changes nothing, not even when it arrives after the request ended', async () => {
    const history = await generateHistory(db, 30, 3);
    await publishEvents(nc, prefix, history.events);
    await waitCaughtUp(prefix);
    const before = await db.query('select * from analytics_request_facts order by request_id');
    const offersBefore = await offerRows(db);
    const ledgerBefore = await db.query('select * from analytics_events order by event_id');
    // The first events of each request (`created`, pending; each tier's offer, still open) once
    // more, after everything.
    const early = history.events.filter((e) => e.kind === 'created' || e.kind === 'priority_notified');
    expect(early.some((e) => e.request.offers.some((o) => o.outcome === null))).toBe(true);
    await publishEvents(nc, prefix, early, { withMsgId: false });
    await waitCaughtUp(prefix);
    expect((await db.query('select * from analytics_request_facts order by request_id')).rows).toEqual(before.rows);
    expect(await offerRows(db)).toEqual(offersBefore);
    expect(offersBefore).toEqual(finalOfferRows(history.requests));
    expect((await db.query('select * from analytics_events order by event_id')).rows).toEqual(ledgerBefore.rows);
  });

  it('a rebuild while events keep arriving ends with the same read model', async () => {
    const history = await generateHistory(db, 150, 13);
    const half = Math.floor(history.events.length / 2);
    await publishEvents(nc, prefix, history.events.slice(0, half));
    await waitCaughtUp(prefix);
    await Promise.all([
      rebuildProjections({
        js: jetstream(analytics.nc),
        names: natsNames(prefix),
        repo: analytics.facts,
        logger: silentLogger,
      }),
      publishEvents(nc, prefix, history.events.slice(half)),
    ]);
    await waitCaughtUp(prefix);
    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    expect(await offerRows(db)).toEqual(finalOfferRows(history.requests));
  });

  it('terminates unreadable messages and keeps projecting the rest', async () => {
    const history = await generateHistory(db, 10, 5);
    const names = natsNames(prefix);
    const [first, ...rest] = history.events as [RequestEvent, ...RequestEvent[]];
    await publishEvents(nc, prefix, [first]);
    await publishRaw(nc, names.subjects.event('created'), 'not json {');
    await publishRaw(nc, names.subjects.event('accepted'), JSON.stringify({ ...first, v: 2, id: crypto.randomUUID() }));
    await publishRaw(nc, names.subjects.event('broadcast'), JSON.stringify({ ...first, request: { id: 'x' } }));
    await publishRaw(nc, `${prefix}.events.request.exploded`, JSON.stringify({ ...first, kind: 'exploded' }));
    await publishEvents(nc, prefix, rest);
    await waitCaughtUp(prefix);

    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(names.streams.events, names.consumers.analytics);
    expect(info.num_redelivered).toBe(0);
    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    const metrics = await analytics.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/analytics_events_rejected_total\{[^}]*\} 4/);
  });

  it('hands a batch back when the database fails and applies it once the database recovers', async () => {
    const history = await generateHistory(db, 10, 9);
    await db.query('alter table analytics_request_facts rename to analytics_request_facts_away');
    await publishEvents(nc, prefix, history.events);
    const names = natsNames(prefix);
    const jsm = await jetstreamManager(nc);
    await eventually(async () => {
      const m = await analytics.app.inject({ method: 'GET', url: '/metrics' });
      return /analytics_batches_failed_total\{[^}]*\} [1-9]/.test(m.body);
    });
    await db.query('alter table analytics_request_facts_away rename to analytics_request_facts');
    await waitCaughtUp(prefix);
    expect((await jsm.consumers.info(names.streams.events, names.consumers.analytics)).num_redelivered).toBe(0);
    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
  });

  it('answers zeros, an empty list and null averages when there is no data', async () => {
    const f = reportFilter({});
    expect(await analytics.reports.successRate({ ...f, minRequests: 0 })).toEqual([]);
    expect(await analytics.reports.responseTimes(f)).toEqual({
      avg_response_minutes: null,
      min_response_minutes: null,
      max_response_minutes: null,
    });
    expect(await analytics.reports.timeoutRate(f)).toEqual({
      total_priority_requests: 0,
      timed_out: 0,
      timeout_rate: 0,
    });
    expect(await analytics.reports.fallbackEffectiveness(f)).toEqual({
      total_fallbacks: 0,
      accepted_after_fallback: 0,
      fallback_success_rate: 0,
    });
    expect(await analytics.reports.prioritySkips(f)).toEqual({
      priority_requests: 0,
      requests_with_skips: 0,
      skip_rate: 0,
      by_mechanic: [],
    });
    expect(await analytics.reports.mechanicStats(crypto.randomUUID())).toEqual({
      favorited_by: 0,
      priority_requests: 0,
      priority_accepted: 0,
      priority_acceptance_rate: 0,
      avg_priority_response_seconds: null,
    });
  });

  it('serves /healthz, /readyz and /metrics with the consumer backlog', async () => {
    expect((await analytics.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await analytics.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', checks: { nats: 'ok', database: 'ok', consumer: 'ok' } });
    const history = await generateHistory(db, 5, 11, 0);
    await publishEvents(nc, prefix, history.events);
    await waitCaughtUp(prefix);
    const metrics = (await analytics.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/analytics_events_processed_total\{[^}]*kind="created"[^}]*\} 5/);
    expect(metrics).toMatch(/analytics_consumer_pending_messages\{[^}]*\} 0/);
    expect(metrics).toMatch(/analytics_event_lag_seconds_count/);
  });
});
