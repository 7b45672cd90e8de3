import { createTokenService, type Principal } from '@dibs/auth';
import { natsNames } from '@dibs/contracts';
import {
  createOutboxPublisher,
  createOutboxRelay,
  isDbUnavailable,
  type Orm,
  type OutboxRelay,
  PUBLISHER_GRACE_MS,
  sqlOf,
} from '@dibs/db';
import {
  createAuthorizer,
  createHttpApp,
  type HttpApp,
  natsPlugin,
  ormPlugin,
  registerProbes,
  registerWork,
  rejectUnstorableText,
} from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { natsIsUp } from '@dibs/nats';
import fastifyCors from '@fastify/cors';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge } from 'prom-client';
import { createAnalyticsClient, createRoutingClient } from './clients/routing.client.js';
import type { IntakeConfig } from './config.js';
import { createAvailabilityRepository } from './repositories/availability.repository.js';
import { createCustomersRepository } from './repositories/customers.repository.js';
import { createDirectory } from './repositories/directory.js';
import { createExperimentsRepository } from './repositories/experiments.repository.js';
import { createFavoritesRepository } from './repositories/favorites.repository.js';
import { createFeatureFlagsRepository } from './repositories/feature-flags.repository.js';
import { createMechanicDirectoryRepository } from './repositories/mechanic-directory.repository.js';
import { createMechanicsRepository } from './repositories/mechanics.repository.js';
import { createPlansRepository } from './repositories/plans.repository.js';
import { createPrioritySettingsRepository } from './repositories/priority-settings.repository.js';
import { createSessionRequestsRepository } from './repositories/session-requests.repository.js';
import { registerAdminRoutes } from './routes/admin.routes.js';
import { registerAvailabilityRoutes } from './routes/availability.routes.js';
import { registerCommandRoutes } from './routes/commands.routes.js';
import { registerDashboardRoutes } from './routes/dashboard.routes.js';
import { registerExperimentRoutes } from './routes/experiments.routes.js';
import { registerFavoriteRoutes } from './routes/favorites.routes.js';
import { registerMechanicRoutes } from './routes/mechanics.routes.js';
import { registerPlanRoutes } from './routes/plans.routes.js';
import { registerSessionRequestRoutes } from './routes/session-requests.routes.js';

export { bookingStatement } from './repositories/booking-statements.js';

export interface IntakeDeps {
  config: IntakeConfig;
  jwtSecret: string;
  /** Intake's one way to its data, the booking path's prepared statements included (main.ts opens it). */
  orm: Orm;
  nc: NatsConnection;
  /**
   * Whether `close()` frees `orm` and `nc` too, after the server and the relay have stopped
   * (main.ts hands them over); otherwise the caller frees them afterwards (`Handed` in @dibs/http).
   */
  ownsConnections?: boolean;
  logger: Logger;
  /** Run the outbox relay in this process (default true; tests of the relay turn it off). */
  relay?: boolean;
}

export interface Intake {
  app: HttpApp;
  relay: OutboxRelay | undefined;
  /** Stops the HTTP server and the relay, then frees the connections it owns. */
  close(): Promise<void>;
}

/**
 * CORS for the pages of `origins` (the web console, CONTRACT §8). Another origin, or a request
 * without one, gets no CORS headers, and its preflight is the 404 of a route that does not exist.
 * Bearer tokens, never cookies: no credentials.
 */
async function registerCors(app: HttpApp, origins: readonly string[]): Promise<void> {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin !== undefined && (any || allowed.has(origin)) ? origin : false),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['retry-after', 'location', 'idempotent-replayed', 'x-request-id'],
    maxAge: 600,
    // A preflight lacking Access-Control-Request-Method gets 204 like any other, instead of the
    // plugin's text/plain 400 (every error here is problem+json).
    strictPreflight: false,
  });
}

/** Builds the intake HTTP API (CONTRACT §3) and its outbox relay; never listens. */
export async function buildIntake(deps: IntakeDeps): Promise<Intake> {
  const { config, jwtSecret, orm, nc, logger, relay = true } = deps;
  const names = natsNames(config.NATS_PREFIX);
  const { app, metrics } = await createHttpApp({
    service: 'intake',
    logger,
    isUnavailable: isDbUnavailable,
    maxInFlight: config.INTAKE_MAX_IN_FLIGHT,
    openapi: {
      title: 'dibs intake API',
      version: '1.0.0',
      description: 'Customers book session requests, mechanics accept them, admins run the feature.',
    },
  });
  const owned = deps.ownsConnections ?? false;
  await app.register(ormPlugin, { connection: orm, owned });
  await app.register(natsPlugin, { connection: nc, owned });
  await registerCors(app, config.INTAKE_CORS_ORIGINS);

  // One way to the data: the ORM. The booking path (who exists, booking, reading bookings) speaks
  // SQL through its pool with prepared statements (docs/decisions/011-capacity.md); the admin
  // routes work on entities in forked EMs.
  const sql = sqlOf(orm.em);
  rejectUnstorableText(app);
  const directory = createDirectory(sql);
  const tokens = createTokenService(jwtSecret, Date.now, config.AUTH_MAX_TOKEN_TTL);
  const authorize = createAuthorizer({
    tokens,
    principalExists: async (p: Principal) =>
      p.role === 'customer' ? (await directory.customer(p.sub)) !== undefined : directory.mechanicExists(p.sub),
  });
  const adminOnly = authorize('admin');
  const customerOnly = authorize('customer');
  const mechanicOnly = authorize('mechanic');
  const customerOrAdmin = authorize('customer', 'admin');

  registerAdminRoutes(app, {
    adminOnly,
    mechanics: createMechanicsRepository(orm),
    customers: createCustomersRepository(orm),
    flags: createFeatureFlagsRepository(orm),
    settings: createPrioritySettingsRepository(sql, config.PRIORITY_WINDOW_MINUTES),
  });
  registerExperimentRoutes(app, { adminOnly, experiments: createExperimentsRepository(sql) });
  registerPlanRoutes(app, { adminOnly, plans: createPlansRepository(sql) });
  const favorites = createFavoritesRepository(orm);
  registerFavoriteRoutes(app, { customerOnly, favorites });
  registerDashboardRoutes(app, { mechanicOnly, favorites });
  registerMechanicRoutes(app, { customerOrAdmin, directory: createMechanicDirectoryRepository(sql) });
  registerAvailabilityRoutes(app, { mechanicOnly, availability: createAvailabilityRepository(sql) });
  const js = jetstream(nc);
  const publisher = relay
    ? createOutboxPublisher({
        databaseUrl: config.DATABASE_URL,
        owner: 'intake',
        js,
        prefix: config.NATS_PREFIX,
        logger,
      })
    : undefined;
  registerSessionRequestRoutes(app, {
    customerOnly,
    // Publish the created event right after its commit; the relay below covers any failure.
    requests: createSessionRequestsRepository(sql, directory, (entries) => void publisher?.publish(entries)),
    priorityWindowMinutes: config.PRIORITY_WINDOW_MINUTES,
  });
  registerCommandRoutes(app, {
    customerOnly,
    mechanicOnly,
    adminOnly,
    routing: createRoutingClient(nc, names, config.INTAKE_COMMAND_TIMEOUT_MS),
    analytics: createAnalyticsClient(nc, names, config.INTAKE_COMMAND_TIMEOUT_MS),
  });

  const outbox = relay
    ? createOutboxRelay({
        databaseUrl: config.DATABASE_URL,
        owner: 'intake',
        js,
        prefix: config.NATS_PREFIX,
        logger,
        graceMs: PUBLISHER_GRACE_MS,
      })
    : undefined;
  new Gauge({
    name: 'dibs_outbox_backlog',
    help: 'Outbox rows not yet published to NATS',
    registers: [metrics],
    async collect() {
      if (outbox) this.set(await outbox.backlog().catch(() => -1));
    },
  });
  registerProbes(app, metrics, {
    database: async () => (await sql.query('select 1')).rowCount === 1,
    nats: () => natsIsUp(nc),
  });

  // After the server has stopped taking bookings, before `dibs-nats` and `dibs-orm` let go:
  // what the last bookings wrote is published (or left to the next relay) first.
  await registerWork(app, 'intake-work', async () => {
    await publisher?.stop();
    await outbox?.stop();
  });
  await app.ready();
  await outbox?.start();
  return {
    app,
    relay: outbox,
    close: () => app.close(),
  };
}
