import { randomUUID } from 'node:crypto';
import { type Analytics, buildAnalytics } from '@dibs/analytics';
import { DEV_JWT_SECRET } from '@dibs/config';
import { createOrm, type Orm } from '@dibs/db';
import { buildIntake, type Intake } from '@dibs/intake';
import { loadIntakeConfig } from '@dibs/intake/config';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildRouting, type Routing, RoutingConfigSchema } from '@dibs/routing';
import { cleanupNats, createTestDatabase, natsServers, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import type { NatsConnection } from '@nats-io/transport-node';

// biome-ignore lint/suspicious/noExplicitAny: response bodies of every route, read field by field in tests
export type Json = any;

/** intake + routing + analytics in this process, on a database and NATS prefix of their own. */
export interface Stack {
  db: TestDatabase;
  intake: Intake;
  routing: Routing;
  analytics: Analytics;
  adminToken: string;
  /** Calls the HTTP API as `token`. */
  http(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    token: string,
    payload?: object,
  ): Promise<{ status: number; body: Json }>;
  customer(name: string): Promise<{ id: string; token: string }>;
  mechanic(first: string, last: string, status?: 'approved' | 'pending'): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startStack(minuteMs: number): Promise<Stack> {
  const db = await createTestDatabase();
  const prefix = testPrefix('e2e');
  const logger = createLogger({ service: 'e2e', level: 'silent', pretty: false });
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    PRIORITY_MINUTE_MS: String(minuteMs),
    LOG_LEVEL: 'silent',
  };
  const orm: Orm = await createOrm({ url: db.url, poolMax: 5 });
  // One NATS connection for the three services of this process; each keeps its own ORM, as its process would.
  const nc: NatsConnection = await openNats({ NATS_URL: natsServers(), NATS_PREFIX: prefix }, { name: 'e2e' });
  const routingConfig = RoutingConfigSchema.parse(env);
  const routingOrm = await createOrm({
    url: db.url,
    logger,
    poolMax: routingConfig.ROUTING_DB_POOL,
    connectionTimeoutMillis: 5000,
  });
  const analyticsOrm = await createOrm({ url: db.url, logger, poolMax: 5 });
  const intake = await buildIntake({ config: loadIntakeConfig(env), jwtSecret: DEV_JWT_SECRET, orm, nc, logger });
  const routing = await buildRouting({
    config: routingConfig,
    logger,
    nc,
    orm: routingOrm,
    flagRefreshMs: 500,
  });
  const analytics = await buildAnalytics({ config: { NATS_PREFIX: prefix }, logger, nc, orm: analyticsOrm });
  const adminToken = await tokenFor('admin', randomUUID());

  const stack: Stack = {
    db,
    intake,
    routing,
    analytics,
    adminToken,
    async http(method, url, token, payload) {
      const res = await intake.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload ? { payload } : {}),
      });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    },
    async customer(name) {
      const res = await stack.http('POST', '/v1/admin/customers', adminToken, {
        name,
        email: `${randomUUID()}@example.com`,
      });
      return { id: res.body.id, token: await tokenFor('customer', res.body.id) };
    },
    async mechanic(first, last, status = 'approved') {
      const res = await stack.http('POST', '/v1/admin/mechanics', adminToken, {
        first_name: first,
        last_name: last,
        email: `${randomUUID()}@example.com`,
      });
      if (status !== 'pending') await stack.http('PATCH', `/v1/admin/mechanics/${res.body.id}`, adminToken, { status });
      return { id: res.body.id, token: await tokenFor('mechanic', res.body.id) };
    },
    async close() {
      await analytics.close();
      await routing.close();
      await intake.close();
      await nc.drain();
      await Promise.all([routingOrm.close(), analyticsOrm.close(), orm.close()]);
      await db.drop();
      await cleanupNats(prefix);
    },
  };
  return stack;
}
