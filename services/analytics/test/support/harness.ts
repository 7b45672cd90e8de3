import { natsNames, type RequestEvent, type SeenEvent, seenMessageId } from '@dibs/contracts';
import { createOrm } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { connectTestNats, eventually, natsServers, type TestDatabase } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Analytics, buildAnalytics } from '../../src/app.js';
import { reportFilter } from '../../src/domain/report-query.js';
import type { GeneratedRequest } from './lifecycle.js';

export const silentLogger = createLogger({ service: 'analytics-test', level: 'silent' });

/**
 * Analytics built on the test database and prefix with connections of its own, as main.ts builds
 * it (consumer running, reports served) and handing them over: closing it frees them too.
 */
export async function startAnalytics(db: TestDatabase, prefix: string): Promise<Analytics> {
  const nc = await openNats({ NATS_URL: natsServers(), NATS_PREFIX: prefix }, { name: 'dibs-analytics' });
  const orm = await createOrm({ url: db.url, logger: silentLogger, poolMax: 5 });
  return buildAnalytics({ config: { NATS_PREFIX: prefix }, logger: silentLogger, nc, orm, ownsConnections: true });
}

/**
 * Publishes events to the EVENTS stream as the outbox relay does (`Nats-Msg-Id` = event id).
 * `withMsgId: false` publishes without it, so the stream keeps a repeat instead of dropping it
 * (a redelivery as analytics would see it).
 */
export async function publishEvents(
  nc: NatsConnection,
  prefix: string,
  events: readonly RequestEvent[],
  { withMsgId = true } = {},
): Promise<void> {
  const js = jetstream(nc);
  const names = natsNames(prefix);
  for (let i = 0; i < events.length; i += 200) {
    await Promise.all(
      events
        .slice(i, i + 200)
        .map((e) =>
          js.publish(names.subjects.event(e.kind), JSON.stringify(e), withMsgId ? { msgID: e.id } : undefined),
        ),
    );
  }
}

/**
 * Publishes seen acks as the gateway does (`Nats-Msg-Id` = `seenMessageId`); `withMsgId: false`
 * publishes without it (a repeat from another gateway after the duplicate window).
 */
export async function publishSeen(
  nc: NatsConnection,
  prefix: string,
  acks: readonly SeenEvent[],
  { withMsgId = true } = {},
): Promise<void> {
  const js = jetstream(nc);
  const subject = natsNames(prefix).subjects.seen;
  for (let i = 0; i < acks.length; i += 200) {
    await Promise.all(
      acks
        .slice(i, i + 200)
        .map((s) =>
          js.publish(
            subject,
            JSON.stringify(s),
            withMsgId ? { msgID: seenMessageId(s.request_id, s.mechanic_id) } : undefined,
          ),
        ),
    );
  }
}

/** Publishes raw bytes on an event subject (malformed input). */
export async function publishRaw(nc: NatsConnection, subject: string, body: string): Promise<void> {
  await jetstream(nc).publish(subject, body);
}

/** Waits until the analytics consumer has acked (or terminated) everything in the stream. */
export async function waitCaughtUp(prefix: string, timeoutMs = 30_000): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    await eventually(
      async () => {
        const stream = await jsm.streams.info(names.streams.events);
        const info = await jsm.consumers.info(names.streams.events, names.consumers.analytics);
        return (
          info.num_pending === 0 && info.num_ack_pending === 0 && info.ack_floor.stream_seq >= stream.state.last_seq
        );
      },
      timeoutMs,
      'analytics consumer to catch up',
    );
  } finally {
    await nc.close();
  }
}

/** Every report and every mechanic's stats, as answered now (revenue in each currency). */
export async function allReports(analytics: Analytics, mechanicIds: string[], q = {}) {
  const f = reportFilter(q);
  const stats: Record<string, unknown> = {};
  for (const id of mechanicIds) stats[id] = await analytics.reports.mechanicStats(id);
  return {
    experiments: {
      current: await analytics.insights.experiment('window-length'),
      older: await analytics.insights.experiment('older-test'),
    },
    revenue: {
      any: await analytics.insights.revenue(f),
      eur: await analytics.insights.revenue(f, 'EUR'),
      usd: await analytics.insights.revenue(f, 'USD'),
    },
    successRate: await analytics.reports.successRate(f),
    successRateAll: await analytics.reports.successRate({ ...f, minRequests: 0 }),
    responseTimes: await analytics.reports.responseTimes(f),
    timeoutRate: await analytics.reports.timeoutRate(f),
    fallback: await analytics.reports.fallbackEffectiveness(f),
    skips: await analytics.reports.prioritySkips(f),
    stats,
  };
}

/** The read model's rows, in a stable order (to compare before and after a replay). */
export async function factsRows(
  db: TestDatabase,
): Promise<{ requests: unknown[]; offers: unknown[]; seen: unknown[] }> {
  const requests = await db.query('select * from analytics_request_facts order by request_id');
  const offers = await db.query('select * from analytics_offer_facts order by request_id, tier');
  return { requests: requests.rows, offers: offers.rows, seen: await seenRows(db) };
}

/** The seen acks the read model keeps, instants as ISO strings, by request and mechanic. */
export async function seenRows(db: TestDatabase): Promise<unknown[]> {
  const { rows } = await db.query<{ seen_at: Date }>(
    `select request_id, mechanic_id, offer, tier, seen_at from analytics_seen_facts order by request_id, mechanic_id`,
  );
  return rows.map((r) => ({ ...r, seen_at: r.seen_at.toISOString() }));
}

/** The acks analytics must keep: the first of each (request, mechanic), as `seenRows` lists them. */
export function firstSeenRows(acks: readonly SeenEvent[]): unknown[] {
  return [...acks]
    .sort((a, b) => (a.request_id + a.mechanic_id < b.request_id + b.mechanic_id ? -1 : 1))
    .map(({ request_id, mechanic_id, offer, tier, seen_at }) => ({ request_id, mechanic_id, offer, tier, seen_at }));
}

/** The offers the read model holds, instants as ISO strings, by request and tier. */
export async function offerRows(db: TestDatabase): Promise<unknown[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `select request_id, tier, mechanic_id, offered_at, expires_at, outcome
     from analytics_offer_facts order by request_id, tier`,
  );
  for (const row of rows) for (const k of Object.keys(row)) if (row[k] instanceof Date) row[k] = row[k].toISOString();
  return rows;
}

/** The offers each generated request ends with, as `offerRows` lists them. */
export function finalOfferRows(requests: readonly GeneratedRequest[]): unknown[] {
  return [...requests]
    .sort((a, b) => (a.final.id < b.final.id ? -1 : 1))
    .flatMap((r) => r.final.offers.map((o) => ({ request_id: r.final.id, ...o })))
    .map(({ request_id, tier, mechanic_id, offered_at, expires_at, outcome }) => ({
      request_id,
      tier,
      mechanic_id,
      offered_at,
      expires_at,
      outcome,
    }));
}
