import { natsNames } from '@dibs/contracts';
import { type Orm, sqlOf } from '@dibs/db';
import { createHttpApp, type HttpApp, natsPlugin, ormPlugin, registerProbes, registerWork } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { natsIsUp } from '@dibs/nats';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AnalyticsConfig } from './config.js';
import { createEventProjector, type EventProjector } from './handlers/event-projector.js';
import { serveReports } from './handlers/report-handlers.js';
import { createAnalyticsMetrics, registerBacklogGauge } from './metrics.js';
import { createFactsRepository, type FactsRepository } from './repositories/facts.repository.js';
import { createInsightsRepository, type InsightsRepository } from './repositories/insights.repository.js';
import { createReportsRepository, type ReportsRepository } from './repositories/reports.repository.js';

export interface AnalyticsDeps {
  config: Pick<AnalyticsConfig, 'NATS_PREFIX'>;
  logger: Logger;
  /** The NATS connection (streams provisioned). */
  nc: NatsConnection;
  /** Analytics' own ORM (its pool). */
  orm: Orm;
  /**
   * Whether `close()` frees `nc` and `orm` too, after analytics' own work has stopped (main.ts
   * hands them over); otherwise the caller frees them afterwards (`Handed` in @dibs/http).
   */
  ownsConnections?: boolean;
  clock?: () => number;
}

export interface Analytics {
  /** /healthz, /readyz, /metrics; main.ts listens, tests inject. */
  app: HttpApp;
  nc: NatsConnection;
  orm: Orm;
  facts: FactsRepository;
  reports: ReportsRepository;
  insights: InsightsRepository;
  projector: EventProjector;
  /** Stops consuming and answering, then the HTTP app, then frees the connections it owns. */
  close(): Promise<void>;
}

/**
 * Wires analytics on the connections it is given (it never connects them): the read-model
 * projector (started) and the report responders (answering), plus probes; never listens.
 */
export async function buildAnalytics(deps: AnalyticsDeps): Promise<Analytics> {
  const { config, logger, nc, orm } = deps;
  const names = natsNames(config.NATS_PREFIX);
  const js = jetstream(nc);
  // Plain SQL only, no entities: the global EntityManager serves it, no fork needed.
  const sql = sqlOf(orm.em);
  const facts = createFactsRepository(sql);
  const reports = createReportsRepository(sql);
  const insights = createInsightsRepository(sql);

  const { app, metrics: registry } = await createHttpApp({ service: 'analytics', logger });
  const owned = deps.ownsConnections ?? false;
  await app.register(ormPlugin, { connection: orm, owned });
  await app.register(natsPlugin, { connection: nc, owned });
  const metrics = createAnalyticsMetrics(registry);
  const projector = createEventProjector({
    js,
    names,
    repo: facts,
    logger,
    metrics,
    clock: deps.clock ?? Date.now,
  });
  registerBacklogGauge(registry, () => projector.pending());
  registerProbes(app, registry, {
    nats: () => natsIsUp(nc),
    database: async () => (await sql.query('select 1')).rowCount === 1,
    consumer: () => projector.isRunning(),
  });

  await projector.start();
  const subs = serveReports(nc, names, reports, insights, logger);
  await nc.flush();
  await registerWork(app, 'analytics-work', async () => {
    for (const sub of subs) sub.unsubscribe();
    await projector.stop();
  });
  return {
    app,
    nc,
    orm,
    facts,
    reports,
    insights,
    projector,
    close: () => app.close(),
  };
}
