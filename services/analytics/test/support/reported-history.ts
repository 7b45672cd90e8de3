import { cleanupNats, connectTestNats, createTestDatabase, type TestDatabase, testPrefix } from '@dibs/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import type { Analytics } from '../../src/app.js';
import { publishEvents, publishSeen, startAnalytics, waitCaughtUp } from './harness.js';
import { generateHistory, type History } from './history.js';

export interface ReportedHistory {
  db: TestDatabase;
  prefix: string;
  nc: NatsConnection;
  analytics: Analytics;
  history: History;
}

/**
 * For one test file: the default generated history (320 requests over every outcome, preceded by
 * 107 issue-12 lives) in a database of its own, as session_requests rows for the seed's SQL, and
 * its events, then its seen acks (and their repeats), fed to a running analytics on a prefix of
 * its own; all freed after the file.
 * The fields are set once `beforeAll` has run.
 */
export function useReportedHistory(tag: string): ReportedHistory {
  const ctx = {} as ReportedHistory;
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.prefix = testPrefix(tag);
    ctx.nc = await connectTestNats();
    ctx.history = await generateHistory(ctx.db);
    ctx.analytics = await startAnalytics(ctx.db, ctx.prefix);
    await publishEvents(ctx.nc, ctx.prefix, ctx.history.events);
    await publishSeen(ctx.nc, ctx.prefix, ctx.history.seen);
    await publishSeen(ctx.nc, ctx.prefix, ctx.history.seenRepeats, { withMsgId: false });
    await waitCaughtUp(ctx.prefix);
  });
  afterAll(async () => {
    await ctx.analytics?.close();
    await ctx.nc?.close();
    if (ctx.prefix) await cleanupNats(ctx.prefix);
    await ctx.db?.drop();
  });
  return ctx;
}
