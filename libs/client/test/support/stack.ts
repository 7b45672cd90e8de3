import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Analytics, buildAnalytics } from '@dibs/analytics';
import { DEV_JWT_SECRET } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import { createOrm, type Orm } from '@dibs/db';
import { buildIntake, type Intake } from '@dibs/intake';
import { loadIntakeConfig } from '@dibs/intake/config';
import { createLogger } from '@dibs/logger';
import { openNats, provisionStreams } from '@dibs/nats';
import { buildGateway, type Gateway, loadGatewayConfig } from '@dibs/notification';
import { buildRouting, type Routing, RoutingConfigSchema } from '@dibs/routing';
import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  eventually,
  natsServers,
  type TestDatabase,
  testPrefix,
  tokenFor,
} from '@dibs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createDibsApi, type DibsApi, type HttpOptions } from '../../src/index.js';

export interface Person {
  id: string;
  token: string;
  api: DibsApi;
}

/**
 * The real services for one test file: intake (listening), routing and analytics in this
 * process, and a notification gateway that a test can stop and start again on the same port, all
 * on a database and NATS prefix of their own.
 */
export interface ClientStack {
  db: TestDatabase;
  prefix: string;
  /** http://127.0.0.1:<intake port> */
  apiUrl: string;
  /** ws://127.0.0.1:<gateway port>/v1/ws, the same across restarts. */
  wsUrl: string;
  gatewayPort: number;
  adminToken: string;
  admin: DibsApi;
  /** An SDK for `token` against this stack. */
  api(token: string, options?: Partial<HttpOptions>): DibsApi;
  customer(name?: string): Promise<Person>;
  mechanic(first?: string, status?: 'approved' | 'pending'): Promise<Person>;
  /** Turns ENABLE_FAVORITES_PRIORITY on and waits until routing's cache has it. */
  enablePriority(): Promise<void>;
  /** The running gateway (undefined while stopped). */
  gateway(): Gateway | undefined;
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  /** Added to the gateway's clock (its token checks and `token_expiring` follow it). */
  gatewayClockSkewMs: number;
  /** A Prometheus sample of the running gateway's /metrics (0 when absent). */
  gatewayMetric(name: string, labels: string): Promise<number>;
  close(): Promise<void>;
}

export async function startClientStack(opts: { minuteMs?: number; intakeEnv?: Record<string, string> } = {}) {
  const db = await createTestDatabase();
  const prefix = testPrefix('client');
  const logger = createLogger({ service: 'client-test', level: 'silent', pretty: false });
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    PRIORITY_MINUTE_MS: String(opts.minuteMs ?? 1000),
    LOG_LEVEL: 'silent',
  };
  const nc: NatsConnection = await openNats({ NATS_URL: natsServers(), NATS_PREFIX: prefix }, { name: 'client-test' });
  await provisionStreams(await jetstreamManager(nc), natsNames(prefix));
  const orms: Orm[] = [];
  const orm = async (poolMax = 5) => {
    const o = await createOrm({ url: db.url, logger, poolMax, connectionTimeoutMillis: 5000 });
    orms.push(o);
    return o;
  };
  const routingConfig = RoutingConfigSchema.parse(env);
  const routing: Routing = await buildRouting({
    config: routingConfig,
    logger,
    nc,
    orm: await orm(routingConfig.ROUTING_DB_POOL),
    flagRefreshMs: 500,
  });
  const analytics: Analytics = await buildAnalytics({ config: { NATS_PREFIX: prefix }, logger, nc, orm: await orm() });
  const intake: Intake = await buildIntake({
    config: loadIntakeConfig({ ...env, ...opts.intakeEnv }),
    jwtSecret: DEV_JWT_SECRET,
    orm: await orm(),
    nc,
    logger,
  });
  await intake.app.listen({ port: 0, host: '127.0.0.1' });
  const apiUrl = `http://127.0.0.1:${(intake.app.server.address() as AddressInfo).port}`;

  let gateway: { gateway: Gateway; nc: NatsConnection; orm: Orm } | undefined;
  let gatewayPort = 0;
  async function startGateway(): Promise<void> {
    const config = loadGatewayConfig({ ...env, GATEWAY_DRAIN_MS: '500' });
    const gnc = await connectTestNats();
    const gorm = await createOrm({ url: db.url, logger, poolMax: 4, connectionTimeoutMillis: 2000 });
    const g = await buildGateway({
      config,
      jwtSecret: DEV_JWT_SECRET,
      nc: gnc,
      orm: gorm,
      logger,
      clock: () => Date.now() + stack.gatewayClockSkewMs,
    });
    await g.app.listen({ port: gatewayPort, host: '127.0.0.1' });
    gatewayPort = (g.app.server.address() as AddressInfo).port;
    gateway = { gateway: g, nc: gnc, orm: gorm };
  }
  async function stopGateway(): Promise<void> {
    const g = gateway;
    gateway = undefined;
    if (!g) return;
    await g.gateway.close();
    await g.nc.close();
    await g.orm.close();
  }

  const adminToken = await tokenFor('admin', randomUUID());
  const api = (token: string, options: Partial<HttpOptions> = {}) =>
    createDibsApi({ baseUrl: apiUrl, token, retry: { baseDelayMs: 50, maxDelayMs: 500 }, ...options });
  const admin = api(adminToken);

  const stack: ClientStack = {
    db,
    prefix,
    apiUrl,
    get wsUrl() {
      return `ws://127.0.0.1:${gatewayPort}/v1/ws`;
    },
    get gatewayPort() {
      return gatewayPort;
    },
    adminToken,
    admin,
    api,
    gatewayClockSkewMs: 0,
    async customer(name = 'Dana Driver') {
      const c = await admin.admin.customers.create({ name, email: `${randomUUID()}@example.com` });
      const token = await tokenFor('customer', c.id);
      return { id: c.id, token, api: api(token) };
    },
    async mechanic(first = 'Ann', status = 'approved') {
      const m = await admin.admin.mechanics.create({
        first_name: first,
        last_name: 'Lee',
        email: `${randomUUID()}@example.com`,
      });
      if (status === 'approved') await admin.admin.mechanics.update(m.id, { status });
      const token = await tokenFor('mechanic', m.id);
      return { id: m.id, token, api: api(token) };
    },
    async enablePriority() {
      await admin.admin.flags.update('ENABLE_FAVORITES_PRIORITY', { is_enabled: true });
      await eventually(
        async () => /^routing_priority_flag_enabled(\{[^}]*\})? 1$/m.test((await routing.app.inject('/metrics')).body),
        5000,
        "routing's flag cache to be on",
      );
    },
    gateway: () => gateway?.gateway,
    stopGateway,
    startGateway,
    async gatewayMetric(name, labels) {
      const g = gateway?.gateway;
      if (!g) return 0;
      const body = (await g.app.inject('/metrics')).body;
      const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
      return line ? Number(line.split(' ').pop()) : 0;
    },
    async close() {
      await stopGateway();
      await analytics.close();
      await routing.close();
      await intake.close();
      await nc.drain();
      await Promise.all(orms.map((o) => o.close()));
      await db.drop();
      await cleanupNats(prefix);
    },
  };
  await startGateway();
  return stack;
}
