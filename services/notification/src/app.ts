import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createTokenService } from '@dibs/auth';
import { GATEWAY_CLOSE_CODES, natsNames } from '@dibs/contracts';
import { isDbUnavailable, type Orm, sqlOf } from '@dibs/db';
import {
  createHttpApp,
  type HttpApp,
  natsPlugin,
  ormPlugin,
  problem,
  registerProbes,
  registerWork,
  sendProblem,
} from '@dibs/http';
import { type Logger, withoutTokenInUrls } from '@dibs/logger';
import { natsIsUp } from '@dibs/nats';
import fastifyWebsocket from '@fastify/websocket';
import type { NatsConnection } from '@nats-io/transport-node';
import { createDirectory } from './adapters/directory.repository.js';
import { startEventConsumer } from './adapters/event-consumer.js';
import { createGatewayMetrics } from './adapters/gateway.metrics.js';
import { createPresence } from './adapters/presence.js';
import { createRoutingCommands } from './adapters/routing-commands.js';
import { createSeenPublisher } from './adapters/seen-acks.publisher.js';
import type { GatewayConfig } from './config.js';
import type { Connection } from './connections/connection.js';
import { relayedFrame } from './connections/frames.js';
import { startHeartbeat } from './connections/heartbeat.js';
import { ConnectionHub, yieldToLoop } from './connections/hub.js';
import { mayNotify, parseEvent, planDeliveries } from './domain/delivery.js';
import { closeConnection, type GatewayContext } from './handlers/context.js';
import { handshakeHook } from './handlers/handshake.hook.js';
import { createSocketHandler } from './handlers/socket.handler.js';
import { startStatusRefresh } from './handlers/status-refresh.js';
import { startExpirySweep } from './handlers/token-expiry.js';

export interface GatewayDeps {
  config: GatewayConfig;
  jwtSecret: string;
  nc: NatsConnection;
  orm: Orm;
  /**
   * Whether `close()` frees `nc` and `orm` too, once every client is gone (main.ts hands them
   * over); otherwise the caller frees them afterwards (`Handed` in @dibs/http).
   */
  ownsConnections?: boolean;
  logger: Logger;
  clock?: () => number;
}

export interface Gateway {
  app: HttpApp;
  hub: ConnectionHub;
  instanceId: string;
  /** Frames written so far, by type. */
  sent: Readonly<Record<string, number>>;
  /** Stops accepting, closes every client with 1012, waits for them (GATEWAY_DRAIN_MS), frees the rest and the connections it owns. */
  close(): Promise<void>;
}

/** Client frames above 16 KiB get an error frame; far larger ones are cut by ws itself (1009). */
const MAX_PAYLOAD_BYTES = 1 << 20;

/** Builds the notification gateway (CONTRACT §4): `GET /v1/ws` plus probes; never listens. */
export async function buildGateway({
  config,
  jwtSecret,
  nc,
  orm,
  ownsConnections = false,
  logger,
  clock = Date.now,
}: GatewayDeps): Promise<Gateway> {
  const names = natsNames(config.NATS_PREFIX);
  const instanceId = config.GATEWAY_INSTANCE_ID ?? defaultInstanceId();
  const log = logger.child({ instance_id: instanceId });
  const { app, metrics: registry } = await createHttpApp({
    service: 'notification',
    logger: withoutTokenInUrls(log),
    isUnavailable: isDbUnavailable,
  });
  await app.register(ormPlugin, { connection: orm, owned: ownsConnections });
  await app.register(natsPlugin, { connection: nc, owned: ownsConnections });
  const hub = new ConnectionHub();
  const metrics = createGatewayMetrics(
    registry,
    () => hub.counts(),
    () => hub.takeLongestSlice(),
  );
  const directory = createDirectory(sqlOf(orm.em));
  const presence = await createPresence({
    nc,
    bucket: names.kv.presence,
    instanceId,
    ttlMs: config.GATEWAY_PRESENCE_TTL_MS,
    replicas: config.NATS_STREAM_REPLICAS,
    logger: log,
    clock,
  });
  let draining = false;

  /** A client that reads too slowly: its unsent bytes passed the bound, or it missed a pong with frames unread. */
  function closeSlowReader(conn: Connection): void {
    if (conn.closingSince === 0) log.warn({ conn: conn.seq, user_id: conn.userId }, 'slow client; closing (1013)');
    closeConnection(conn, GATEWAY_CLOSE_CODES.tryAgainLater, 'slow_consumer');
  }

  const ctx: GatewayContext = {
    config,
    clock,
    logger: log,
    hub,
    directory,
    commands: createRoutingCommands(nc, names, config.GATEWAY_COMMAND_TIMEOUT_MS, log),
    publishSeen: createSeenPublisher(nc, names, log),
    presence,
    metrics,
    limits: {
      maxBufferedBytes: config.GATEWAY_MAX_BUFFERED_BYTES,
      countSent: metrics.countSent,
      onOverflow: closeSlowReader,
    },
  };

  await app.register(fastifyWebsocket, {
    // Compression costs CPU and ~300 KiB per socket under load; frames are small JSON.
    options: { perMessageDeflate: false, clientTracking: false, maxPayload: MAX_PAYLOAD_BYTES },
    // Sockets are closed by close() with 1012 before the server stops.
    preClose: (done) => done(),
  });
  app.route({
    method: 'GET',
    url: '/v1/ws',
    schema: { hide: true },
    preValidation: handshakeHook({
      tokens: createTokenService(jwtSecret, clock, config.AUTH_MAX_TOKEN_TTL),
      directory,
      hub,
      metrics,
      allowedOrigins: config.GATEWAY_ALLOWED_ORIGINS,
      maxConnectionsPerMechanic: config.GATEWAY_MAX_CONNECTIONS_PER_MECHANIC,
      isDraining: () => draining,
    }),
    handler: (_request, reply) =>
      sendProblem(reply, problem(426, 'upgrade_required', 'this endpoint speaks WebSocket only'), {
        upgrade: 'websocket',
      }),
    wsHandler: createSocketHandler(ctx),
  });

  const consumer = await startEventConsumer({
    nc,
    names,
    logger: log,
    async handle(subject, payload) {
      // Every replica reads every lifecycle event; those that never notify are skipped unparsed.
      if (!mayNotify(config.NATS_PREFIX, subject)) return;
      const event = parseEvent(payload());
      if (!event) {
        metrics.notifications.inc({ type: 'ignored' });
        log.warn({ subject }, 'lifecycle event not understood; its notifications are skipped');
        return;
      }
      for (const plan of planDeliveries(event)) {
        // Most deliveries address one user: unless that user (or, for everyone, some mechanic)
        // is connected here, there is nothing to serialize or send.
        if (!hub.reaches(plan.audience)) {
          metrics.notifications.inc({ type: 'unaddressed' });
          continue;
        }
        metrics.notifications.inc({ type: plan.frame.type });
        const done = metrics.deliverySeconds.startTimer();
        const sent = await hub.deliver(plan, relayedFrame(plan.frame));
        if (sent > 0) metrics.countSent(plan.frame.type, sent);
        done();
      }
    },
  });
  const heartbeat = startHeartbeat(hub, {
    intervalMs: config.GATEWAY_HEARTBEAT_MS,
    onDead(conn) {
      // Silent with frames it has not read: a slow reader. Its close frame waits behind them and
      // the heartbeat cuts the socket if the close never completes; its memory is bounded until then.
      if (conn.sentSincePong > 0) return closeSlowReader(conn);
      conn.closeReason = 'heartbeat_timeout';
      conn.ws.terminate();
    },
    onStuckClose(conn) {
      conn.ws.terminate();
    },
  });
  const statusRefresh = startStatusRefresh(hub, directory, config.GATEWAY_STATUS_REFRESH_MS, log);
  const expirySweep = startExpirySweep(hub, clock, log);

  registerProbes(app, registry, {
    database: () => directory.ping(),
    nats: () => natsIsUp(nc),
    accepting: () => !draining,
    notifications: () => consumer.healthy(),
  });
  // Stops accepting and closes every client with 1012, waiting for them (GATEWAY_DRAIN_MS). `close()`
  // drains first, while the server still answers a handshake with our 503 problem; a bare
  // `app.close()` drains in preClose, before the server stops (it would wait for the sockets).
  let drained: Promise<void> | undefined;
  const drain = () =>
    (drained ??= (async () => {
      draining = true;
      statusRefresh.stop();
      expirySweep.stop();
      heartbeat.stop();
      for (const conn of hub.all) closeConnection(conn, GATEWAY_CLOSE_CODES.serviceRestart, 'shutdown');
      const deadline = Date.now() + config.GATEWAY_DRAIN_MS;
      while (hub.all.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const conn of hub.all) conn.ws.terminate();
      await yieldToLoop();
    })());
  app.addHook('preClose', drain);
  // The consumer and presence stop before `dibs-nats` and `dibs-orm` let go of what they run on.
  await registerWork(app, 'notification-work', async () => {
    await consumer.stop().catch((err) => log.warn({ err }, 'stopping the notification consumer failed'));
    await presence.stop();
  });
  await app.ready();

  let closing: Promise<void> | undefined;
  return {
    app,
    hub,
    instanceId,
    sent: metrics.sent,
    close() {
      closing ??= drain().then(() => app.close());
      return closing;
    },
  };
}

function defaultInstanceId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${randomBytes(3).toString('hex')}`;
}
