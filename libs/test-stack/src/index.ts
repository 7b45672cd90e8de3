import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Analytics, buildAnalytics } from '@dibs/analytics';
import { DEV_JWT_SECRET } from '@dibs/config';
import { createOrm, type Orm } from '@dibs/db';
import { buildIntake, type Intake } from '@dibs/intake';
import { loadIntakeConfig } from '@dibs/intake/config';
import { createLogger, type Logger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildGateway, type Gateway, loadGatewayConfig } from '@dibs/notification';
import { buildRouting, FAVORITES_PRIORITY_FLAG, type Routing, RoutingConfigSchema } from '@dibs/routing';
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
import type { NatsConnection } from '@nats-io/transport-node';

export interface TestStackOptions {
  /** Names the NATS prefix, the logger and the connection (`client` → `client_…`, `client-test`). */
  label: string;
  /** How long a priority window's "minute" lasts. */
  minuteMs: number;
  /** Added to every service's environment (the console's CONSOLE_PORT, which intake and the gateway allow). */
  env?: Record<string, string>;
  /** Added to intake's environment only. */
  intakeEnv?: Record<string, string>;
}

/** A customer or mechanic made through the admin API, with a token of their own. */
export interface Account {
  id: string;
  token: string;
}

/**
 * The real services for one test file: intake (listening), routing and analytics in this process,
 * and a notification gateway that a test can stop and start again on the same port, all on a
 * database and NATS prefix of their own.
 */
export interface TestStack {
  db: TestDatabase;
  prefix: string;
  /** The environment every service was configured from. */
  env: Record<string, string>;
  logger: Logger;
  intake: Intake;
  routing: Routing;
  analytics: Analytics;
  intakePort: number;
  /** http://127.0.0.1:<intake port> */
  apiUrl: string;
  /** ws://127.0.0.1:<gateway port>/v1/ws, the same across restarts. */
  wsUrl: string;
  gatewayPort: number;
  adminToken: string;
  /** The running gateway (undefined while stopped). */
  gateway(): Gateway | undefined;
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  /** Added to the gateway's clock (its token checks and `token_expiring` follow it). */
  gatewayClockSkewMs: number;
  /** A Prometheus sample of the running gateway's /metrics (0 when absent). */
  gatewayMetric(name: string, labels: string): Promise<number>;
  createCustomer(name: string): Promise<Account>;
  createMechanic(first: string, last: string, status: 'approved' | 'pending'): Promise<Account>;
  /** Turns ENABLE_FAVORITES_PRIORITY on (or off) and waits until routing's cache has it. */
  setPriority(on: boolean): Promise<void>;
  /** Waits until routing's flag cache holds `on`. */
  routingSees(on: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Starts intake, routing, analytics and the gateway for one test file. */
export async function startTestStack(opts: TestStackOptions): Promise<TestStack> {
  const db = await createTestDatabase();
  const prefix = testPrefix(opts.label);
  const logger = createLogger({ service: `${opts.label}-test`, level: 'silent', pretty: false });
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    PRIORITY_MINUTE_MS: String(opts.minuteMs),
    ...opts.env,
  };
  const nc = await openNats({ NATS_URL: natsServers(), NATS_PREFIX: prefix }, { name: `${opts.label}-test` });
  const orms: Orm[] = [];
  const orm = async (poolMax = 5) => {
    const o = await createOrm({ url: db.url, logger, poolMax, connectionTimeoutMillis: 5000 });
    orms.push(o);
    return o;
  };
  const routingConfig = RoutingConfigSchema.parse(env);
  const routing = await buildRouting({
    config: routingConfig,
    logger,
    nc,
    orm: await orm(routingConfig.ROUTING_DB_POOL),
    // Short, so that a flag turned on or off reaches routing before a test's next booking.
    flagRefreshMs: 250,
  });
  const analytics = await buildAnalytics({ config: { NATS_PREFIX: prefix }, logger, nc, orm: await orm() });
  const intake = await buildIntake({
    config: loadIntakeConfig({ ...env, ...opts.intakeEnv }),
    jwtSecret: DEV_JWT_SECRET,
    orm: await orm(),
    nc,
    logger,
  });
  await intake.app.listen({ port: 0, host: '127.0.0.1' });
  const intakePort = (intake.app.server.address() as AddressInfo).port;
  const adminToken = await tokenFor('admin', randomUUID());

  // The gateway has a NATS connection and a pool of its own, so that stopping it is what a
  // replica's shutdown is: the other services keep theirs.
  let gateway: { gateway: Gateway; nc: NatsConnection; orm: Orm } | undefined;
  let gatewayPort = 0;
  async function startGateway(): Promise<void> {
    // A short drain: a stop waits for the clients still connected to close at most this long.
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
    // Port 0 the first time; the same port after a stop, where a client reconnects.
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

  // People and flags are made through intake's admin API, as an admin makes them, not in SQL.
  async function asAdmin<T>(method: 'POST' | 'PATCH', url: string, payload: object): Promise<T> {
    const res = await intake.app.inject({ method, url, payload, headers: { authorization: `Bearer ${adminToken}` } });
    if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
    return res.json<T>();
  }
  async function routingSees(on: boolean): Promise<void> {
    await eventually(
      async () =>
        new RegExp(`^routing_priority_flag_enabled(\\{[^}]*\\})? ${on ? 1 : 0}$`, 'm').test(
          (await routing.app.inject('/metrics')).body,
        ),
      5000,
      `routing's flag cache to be ${on ? 'on' : 'off'}`,
    );
  }

  const stack: TestStack = {
    db,
    prefix,
    env,
    logger,
    intake,
    routing,
    analytics,
    intakePort,
    apiUrl: `http://127.0.0.1:${intakePort}`,
    get wsUrl() {
      return `ws://127.0.0.1:${gatewayPort}/v1/ws`;
    },
    get gatewayPort() {
      return gatewayPort;
    },
    adminToken,
    gateway: () => gateway?.gateway,
    stopGateway,
    startGateway,
    gatewayClockSkewMs: 0,
    async gatewayMetric(name, labels) {
      const g = gateway?.gateway;
      if (!g) return 0;
      const body = (await g.app.inject('/metrics')).body;
      const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
      return line ? Number(line.split(' ').pop()) : 0;
    },
    async createCustomer(name) {
      const { id } = await asAdmin<{ id: string }>('POST', '/v1/admin/customers', {
        name,
        email: `${randomUUID()}@example.com`,
      });
      return { id, token: await tokenFor('customer', id) };
    },
    async createMechanic(first, last, status) {
      const { id } = await asAdmin<{ id: string }>('POST', '/v1/admin/mechanics', {
        first_name: first,
        last_name: last,
        email: `${randomUUID()}@example.com`,
      });
      if (status === 'approved') await asAdmin('PATCH', `/v1/admin/mechanics/${id}`, { status });
      return { id, token: await tokenFor('mechanic', id) };
    },
    async setPriority(on) {
      await asAdmin('PATCH', `/v1/admin/feature-flags/${FAVORITES_PRIORITY_FLAG}`, { is_enabled: on });
      await routingSees(on);
    },
    routingSees,
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
