import { StartupError } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import {
  createOutboxPublisher,
  createOutboxRelay,
  describeDbError,
  isDbUnavailable,
  type Orm,
  type OutboxEntry,
  PUBLISHER_GRACE_MS,
  sqlOf,
  unitOfWork,
} from '@dibs/db';
import { createHttpApp, type HttpApp, natsPlugin, ormPlugin, registerProbes, registerWork } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { ensureConsumer, natsIsUp } from '@dibs/nats';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import type { RoutingConfig } from './config.js';
import { FAVORITES_PRIORITY_FLAG } from './domain/feature-flag.js';
import { serveCommands } from './handlers/commands.handler.js';
import { createCreatedConsumer } from './handlers/created.consumer.js';
import { createFlagCache } from './infra/flag-cache.js';
import { createPresenceReader } from './infra/presence-reader.js';
import { createRoutingMetrics } from './metrics.js';
import { countOpenTiers, nextTierDeadline } from './repositories/sequence.repository.js';
import { countOpenWindows, nextWindowDeadline } from './repositories/session-requests.repository.js';
import { createAvailabilityJudge } from './services/availability-judge.js';
import { createCommandService } from './services/command-service.js';
import { createRequestRouter, type RoutingHooks } from './services/request-router.js';
import { createWindowSweeper } from './services/window-sweeper.js';

/** Unacknowledged `created` messages the consumer lets out at once, over every replica. */
const MAX_ACK_PENDING = 10_000;

export interface RoutingDeps {
  config: Pick<
    RoutingConfig,
    | 'DATABASE_URL'
    | 'NATS_PREFIX'
    | 'PRIORITY_MINUTE_MS'
    | 'ROUTING_ACK_WAIT_MS'
    | 'ROUTING_SWEEP_MS'
    | 'ROUTING_CONCURRENCY'
    | 'ROUTING_DB_POOL'
  >;
  logger: Logger;
  /** The caller's NATS connection (streams provisioned); it outlives `close()`, the caller drains it. */
  nc: NatsConnection;
  /** Routing's way to its data (docs/decisions/014-data-access.md). */
  orm: Orm;
  /**
   * Whether `close()` frees `nc` and `orm` too, after routing's own work has stopped (main.ts
   * hands them over); otherwise the caller frees them afterwards (`Handed` in @dibs/http).
   */
  ownsConnections?: boolean;
  /** Injected time (epoch ms); every deadline is computed from it. */
  clock?: () => number;
  hooks?: RoutingHooks;
  /** Safety-net re-read of the feature flag. */
  flagRefreshMs?: number;
}

export interface Routing {
  /** Probes and metrics; never listens by itself. */
  app: HttpApp;
  /** The connection it was built with. */
  nc: NatsConnection;
  /** Stops taking work and finishes what is in hand, then frees the connections it owns. */
  close(): Promise<void>;
}

/**
 * Builds routing on the connections it is given (it never connects them): the durable priority
 * window, the fallback broadcast and the commands. Ensures its consumer, loads the flag, then
 * consumes, serves and sweeps; never listens.
 */
export async function buildRouting(deps: RoutingDeps): Promise<Routing> {
  const { config, logger, nc, orm } = deps;
  const clock = deps.clock ?? Date.now;
  const names = natsNames(config.NATS_PREFIX);
  const js = jetstream(nc);
  const { app, metrics: registry } = await createHttpApp({
    service: 'routing',
    logger,
    isUnavailable: isDbUnavailable,
  });
  const owned = deps.ownsConnections ?? false;
  await app.register(ormPlugin, { connection: orm, owned });
  await app.register(natsPlugin, { connection: nc, owned });
  const relay = createOutboxRelay({
    databaseUrl: config.DATABASE_URL,
    owner: 'routing',
    js,
    prefix: config.NATS_PREFIX,
    logger,
    graceMs: PUBLISHER_GRACE_MS,
  });
  // Offers and broadcasts leave the moment their transaction commits; the relay covers failures.
  const publisher = createOutboxPublisher({
    databaseUrl: config.DATABASE_URL,
    owner: 'routing',
    js,
    prefix: config.NATS_PREFIX,
    logger,
  });
  const db = sqlOf(orm.em);
  const afterCommit = (entries: OutboxEntry[]) => void publisher.publish(entries);
  const inTransaction = unitOfWork(orm, { outbox: 'routing', afterCommit });
  const metrics = createRoutingMetrics(registry, {
    openWindows: () => countOpenWindows(db),
    openTiers: () => countOpenTiers(db),
    outboxBacklog: relay.backlog,
    // Read at scrape time only, once the cache below exists.
    flag: () => flags.current(),
  });
  const flags = createFlagCache({
    databaseUrl: config.DATABASE_URL,
    db,
    flagKey: FAVORITES_PRIORITY_FLAG,
    logger,
    ...(deps.flagRefreshMs ? { refreshMs: deps.flagRefreshMs } : {}),
  });
  const minuteMs = config.PRIORITY_MINUTE_MS;
  // The sweeper is built after the router it drives; the router tells it of each window it opens.
  let windowOpened = (_deadline: number): void => {};
  const router = createRequestRouter({
    db,
    inTransaction,
    afterCommit,
    flags,
    judge: createAvailabilityJudge(createPresenceReader(nc, config.NATS_PREFIX, logger)),
    minuteMs,
    clock,
    logger,
    metrics,
    onWindowOpened: (deadline) => windowOpened(deadline),
    ...(deps.hooks ? { hooks: deps.hooks } : {}),
  });
  const commands = createCommandService({ db, inTransaction, router, minuteMs, clock, logger, metrics });
  const sweeper = createWindowSweeper({
    router,
    logger,
    clock,
    // The earliest of the single windows' and the sequences' tiers' deadlines.
    nextDeadline: async () => {
      const [window, tier] = await Promise.all([nextWindowDeadline(db), nextTierDeadline(db)]);
      if (window === null || tier === null) return window ?? tier;
      return Math.min(window, tier);
    },
    maxWaitMs: config.ROUTING_SWEEP_MS,
  });
  windowOpened = (deadline) => sweeper.expect(deadline);
  const consumer = createCreatedConsumer({
    consumer: () => js.consumers.get(names.streams.events, names.consumers.routingCreated),
    router,
    logger,
    metrics,
    concurrency: config.ROUTING_CONCURRENCY,
    ackWaitMs: config.ROUTING_ACK_WAIT_MS,
  });
  registerProbes(app, registry, {
    nats: () => natsIsUp(nc),
    db: async () => (await db.query('select 1')).rowCount === 1,
  });

  const jsm = await jetstreamManager(nc);
  await ensureConsumer(jsm, names.streams.events, {
    durable_name: names.consumers.routingCreated,
    description: 'routing: request.created, acknowledged once routed',
    // One filter only: nats-server 2.9 has no multi-filter consumers.
    filter_subject: names.subjects.event('created'),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(config.ROUTING_ACK_WAIT_MS),
    // Unlimited: a database outage may hand a message back many times.
    max_deliver: -1,
    // Messages in hand across all replicas (each takes ROUTING_CONCURRENCY); a window holds none.
    max_ack_pending: MAX_ACK_PENDING,
    // No `backoff`: it would override the delay each retry's nak asks for.
  });
  try {
    await flags.start();
  } catch (err) {
    throw new StartupError(describeDbError(err, config.DATABASE_URL));
  }
  const subscriptions = serveCommands(nc, names, commands, logger);
  consumer.start();
  sweeper.start();
  await relay.start();
  // Stops before `dibs-nats` and `dibs-orm` let go: the last transactions' messages are published first.
  await registerWork(app, 'routing-work', async () => {
    for (const s of subscriptions) s.unsubscribe();
    await consumer.stop();
    await sweeper.stop();
    await publisher.stop();
    await relay.flush().catch(() => undefined);
    await relay.stop();
    await flags.stop();
  });
  logger.info({ prefix: config.NATS_PREFIX, minute_ms: minuteMs }, 'routing started');

  return { app, nc, close: () => app.close() };
}
