import type { AddressInfo } from 'node:net';
import { DEV_JWT_SECRET } from '@dibs/config';
import { type Notification, natsNames, relative } from '@dibs/contracts';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { connectTestNats, natsServers, type TestDatabase } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
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
  const pool = new pg.Pool({ connectionString: via.databaseUrl ?? db.url, max: 4, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  const gateway = await buildGateway({
    config,
    jwtSecret: DEV_JWT_SECRET,
    nc,
    pool,
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
      await pool.end();
    },
  };
}

type Body = Notification extends infer N ? (N extends Notification ? Omit<N, 'id' | 'at'> : never) : never;

/**
 * Publishes a notification the way routing's outbox relay does (JetStream, Nats-Msg-Id = id),
 * for tests that exercise the gateway without routing. Returns the frame id.
 */
export async function publishNotification(
  nc: NatsConnection,
  prefix: string,
  relativeSubject: string,
  body: Body & { exclude_mechanic_ids?: string[] },
  id: string = crypto.randomUUID(),
  /** JetStream's message id; another one than `id` simulates a republish after the duplicate window. */
  msgID: string = id,
): Promise<string> {
  const payload = { id, at: new Date().toISOString(), ...body };
  await jetstream(nc).publish(`${prefix}.${relativeSubject}`, JSON.stringify(payload), { msgID });
  return id;
}

export { relative };
