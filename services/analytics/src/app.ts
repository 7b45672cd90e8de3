import { natsNames } from '@dibs/contracts';
import { createHttpApp, type HttpApp, registerProbes } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { connectNats, natsIsUp, provisionStreams } from '@dibs/nats';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import pg from 'pg';
import type { AnalyticsConfig } from './config.js';
import { createEventProjector, type EventProjector } from './handlers/event-projector.js';
import { serveReports } from './handlers/report-handlers.js';
import { createAnalyticsMetrics, registerBacklogGauge } from './metrics.js';
import { createFactsRepository, type FactsRepository } from './repositories/facts.repository.js';
import { createReportsRepository, type ReportsRepository } from './repositories/reports.repository.js';

export interface AnalyticsDeps {
  /** The parsed config, or raw env values (`NATS_URL` as a comma-separated string is accepted). */
  config: Pick<AnalyticsConfig, 'DATABASE_URL' | 'NATS_PREFIX'> & {
    NATS_URL: string[] | string;
    /** Replicas for streams this replica creates; existing streams keep theirs when unset. */
    NATS_STREAM_REPLICAS?: number;
  };
  logger: Logger;
  clock?: () => number;
  /** Database pool size of this replica. */
  poolMax?: number;
}

export interface Analytics {
  /** /healthz, /readyz, /metrics; main.ts listens, tests inject. */
  app: HttpApp;
  nc: NatsConnection;
  pool: pg.Pool;
  facts: FactsRepository;
  reports: ReportsRepository;
  projector: EventProjector;
  /** Provisions the streams, starts the consumer and answers report requests. */
  start(): Promise<void>;
  /** Stops consuming and answering, then frees NATS, the pool and the HTTP app. */
  close(): Promise<void>;
}

/** Wires analytics: read-model projector, report responders, probes. Connects, never listens. */
export async function buildAnalytics(deps: AnalyticsDeps): Promise<Analytics> {
  const { config, logger } = deps;
  const names = natsNames(config.NATS_PREFIX);
  const servers = typeof config.NATS_URL === 'string' ? config.NATS_URL.split(',') : config.NATS_URL;
  const nc = await connectNats({ servers, name: 'dibs-analytics', logger });
  const js = jetstream(nc);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: deps.poolMax ?? 5 });
  pool.on('error', (err) => logger.warn({ err }, 'analytics pool connection error'));
  const facts = createFactsRepository(pool);
  const reports = createReportsRepository(pool);

  const { app, metrics: registry } = await createHttpApp({ service: 'analytics', logger });
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
    database: async () => (await pool.query('select 1')).rowCount === 1,
    consumer: () => projector.isRunning(),
  });

  let subs: Subscription[] = [];
  return {
    app,
    nc,
    pool,
    facts,
    reports,
    projector,
    async start() {
      await provisionStreams(await js.jetstreamManager(), names, { replicas: config.NATS_STREAM_REPLICAS });
      await projector.start();
      subs = serveReports(nc, names, reports, logger);
      await nc.flush();
    },
    async close() {
      for (const sub of subs) sub.unsubscribe();
      await projector.stop();
      await app.close();
      await nc.drain().catch(() => undefined);
      await pool.end();
    },
  };
}
