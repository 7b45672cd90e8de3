import type { AddressInfo } from 'node:net';
import { DEV_JWT_SECRET } from '@dibs/config';
import {
  type Delivery,
  EVENT_VERSION,
  type EventKind,
  natsNames,
  type RequestEvent,
  type SessionRequest,
} from '@dibs/contracts';
import { createOrm } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { connectTestNats, natsServers, type TestDatabase } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildGateway, type Gateway } from '../../src/app.js';
import { type GatewayConfig, loadGatewayConfig } from '../../src/config.js';

export interface RunningGateway {
  gateway: Gateway;
  config: GatewayConfig;
  nc: NatsConnection;
  /** ws://127.0.0.1:<port>/v1/ws */
  wsUrl: string;
  httpUrl: string;
  close(): Promise<void>;
}

/** A gateway listening on a random port against the test database and NATS prefix. */
export async function startGateway(
  db: TestDatabase,
  prefix: string,
  env: Record<string, string> = {},
  /** Injected time (the token checks and expiry follow it). */
  clock?: () => number,
  /** Reach NATS / PostgreSQL elsewhere (e.g. through a TcpProxy a test can cut). */
  via: { natsServers?: string[]; databaseUrl?: string } = {},
): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    GATEWAY_DRAIN_MS: '1000',
    ...env,
  });
  const logger = createLogger({ service: 'notification-test', level: config.LOG_LEVEL, pretty: false });
  const nc = via.natsServers
    ? await connectNats({ servers: via.natsServers, name: 'gateway-test' })
    : await connectTestNats();
  await provisionStreams(await jetstreamManager(nc), natsNames(prefix));
  const orm = await createOrm({ url: via.databaseUrl ?? db.url, logger, poolMax: 4, connectionTimeoutMillis: 2000 });
  const gateway = await buildGateway({
    config,
    jwtSecret: DEV_JWT_SECRET,
    nc,
    orm,
    logger,
    ...(clock ? { clock } : {}),
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = gateway.app.server.address() as AddressInfo;
  let closed = false;
  return {
    gateway,
    config,
    nc,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    async close() {
      if (closed) return;
      closed = true;
      await gateway.close();
      await nc.close();
      await orm.close();
    },
  };
}

/**
 * Publishes a lifecycle event carrying `notify` the way routing's outbox does (JetStream,
 * Nats-Msg-Id = event id), for tests that exercise the gateway without routing. Returns the
 * event id, which is the id of every frame rendered from it.
 */
export async function publishEvent(
  nc: NatsConnection,
  prefix: string,
  kind: EventKind,
  request: SessionRequest,
  notify: Delivery[],
  id: string = crypto.randomUUID(),
  /** JetStream's message id; another one than `id` simulates a republish after the duplicate window. */
  msgID: string = id,
): Promise<string> {
  const event: RequestEvent = {
    v: EVENT_VERSION,
    id,
    kind,
    occurred_at: new Date().toISOString(),
    request,
    actor_mechanic_id: null,
    notify,
    price: null,
  };
  await jetstream(nc).publish(natsNames(prefix).subjects.event(kind), JSON.stringify(event), { msgID });
  return id;
}

/** A `request_update` to the request's customer, as routing sends one with every change. */
export function publishUpdate(nc: NatsConnection, prefix: string, request: SessionRequest): Promise<string> {
  return publishEvent(nc, prefix, 'accepted', request, [{ type: 'request_update' }]);
}
