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
import { rebuildProjections } from '../src/rebuild-projections.js';
import { expectedFallback, expectedSkips, expectedTimeoutRate } from './support/expected.js';
import { approximately, expectedExperiment, expectedRevenue } from './support/expected-insights.js';
import {
  allReports,
  finalOfferRows,
  firstSeenRows,
  offerRows,
  publishEvents,
  publishRaw,
  publishSeen,
  seenRows,
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
           status, mechanic_id, accepted_at, cancelled_at, customer_id, experiment_key, experiment_arm, price_cents,
           currency
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
    // Seen acks too, their later repeats first, interleaved with the events.
    const acks = [...shuffle(history.seenRepeats, 3), ...shuffle(history.seen, 4)];
    const half = Math.floor(shuffled.length / 2);
    await publishEvents(nc, prefix, shuffled.slice(0, half));
    await publishSeen(nc, prefix, acks, { withMsgId: false });
    await publishEvents(nc, prefix, shuffled.slice(half));
    await publishEvents(nc, prefix, repeats, { withMsgId: false });
    await publishSeen(nc, prefix, shuffle(history.seen, 5).slice(0, 50), { withMsgId: false });
    await waitCaughtUp(prefix);

    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    expect(await offerRows(db)).toEqual(finalOfferRows(history.requests));
    expect(await seenRows(db)).toEqual(firstSeenRows(history.seen));
    expect(history.seenRepeats.length).toBeGreaterThan(0);
    const ledger = await db.query('select count(*)::int as n from analytics_events');
    expect(ledger.rows[0]!.n).toBe(history.events.length);

    // The numbers counted by hand, sequences and skipped favorites included…
    const ids = history.mechanics.map((m) => m.id);
    const shuffledAnswers = await allReports(analytics, ids);
    expect(shuffledAnswers.timeoutRate).toEqual(expectedTimeoutRate(history.requests));
    expect(shuffledAnswers.fallback).toEqual(expectedFallback(history.requests));
    expect(shuffledAnswers.skips).toEqual(expectedSkips(history, history.requests));
    expect(shuffledAnswers.skips.requests_with_skips).toBeGreaterThan(0);
    expect(shuffledAnswers.revenue.eur).toEqual(expectedRevenue(history, history.requests, 'EUR'));
    expect(shuffledAnswers.experiments.current).toEqual(approximately(expectedExperiment(history, 'window-length')));
    // …and the same answers as a second analytics fed the same events once, in order, and twice.
    await analytics.facts.truncate();
    const inOrder = history.events.map((event) => ({ event, seq: null }));
    await analytics.facts.apply(inOrder, history.seen);
    expect(await allReports(analytics, ids)).toEqual(shuffledAnswers);
    await analytics.facts.apply(inOrder, [...history.seenRepeats, ...history.seen]);
    expect(await allReports(analytics, ids)).toEqual(shuffledAnswers);
    expect(await seenRows(db)).toEqual(firstSeenRows(history.seen));
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
    const halfAcks = Math.floor(history.seen.length / 2);
    await publishEvents(nc, prefix, history.events.slice(0, half));
    await publishSeen(nc, prefix, history.seen.slice(0, halfAcks));
    await waitCaughtUp(prefix);
    await Promise.all([
      rebuildProjections({
        js: jetstream(analytics.nc),
        names: natsNames(prefix),
        repo: analytics.facts,
        logger: silentLogger,
      }),
      publishEvents(nc, prefix, history.events.slice(half)),
      publishSeen(nc, prefix, history.seen.slice(halfAcks)),
    ]);
    await waitCaughtUp(prefix);
    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    expect(await offerRows(db)).toEqual(finalOfferRows(history.requests));
    expect(await seenRows(db)).toEqual(firstSeenRows(history.seen));
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
    // A seen ack without its instant, and a lifecycle event on the seen subject.
    const ack = history.seen[0] ?? { v: 1, request_id: first.request.id, mechanic_id: first.request.customer_id };
    await publishRaw(nc, names.subjects.seen, JSON.stringify({ ...ack, seen_at: undefined }));
    await publishRaw(nc, names.subjects.seen, JSON.stringify(first));
    await publishEvents(nc, prefix, rest);
    await waitCaughtUp(prefix);

    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(names.streams.events, names.consumers.analytics);
    expect(info.num_redelivered).toBe(0);
    const { rows } = await db.query('select * from analytics_request_facts order by request_id');
    expect(rows).toEqual(await finalFacts());
    const metrics = await analytics.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/analytics_events_rejected_total\{[^}]*\} 6/);
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
