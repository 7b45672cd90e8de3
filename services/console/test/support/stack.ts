import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { type Analytics, buildAnalytics } from '@dibs/analytics';
import { createDibsApi, type DibsApi } from '@dibs/client';
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
  createTestDatabase,
  eventually,
  natsServers,
  type TestDatabase,
  testPrefix,
  tokenFor,
} from '@dibs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildConsole, type Console, DEFAULT_WEB_ROOT, loadConsoleConfig } from '../../src/app.js';

export interface Person {
  id: string;
  token: string;
  api: DibsApi;
}

/**
 * The whole system for one browser test file: intake, gateway and the console listening on free
 * ports of 127.0.0.1, routing and analytics beside them, on a database and NATS prefix of their
 * own. The console runs with its defaults: the page finds the API and the gateway on its own host
 * at INTAKE_PORT / GATEWAY_PORT, and they accept its origin because they know CONSOLE_PORT.
 */
export interface ConsoleStack {
  db: TestDatabase;
  /** http://127.0.0.1:<console port> */
  consoleUrl: string;
  apiUrl: string;
  admin: DibsApi;
  adminToken: string;
  customer(name: string): Promise<Person>;
  mechanic(first: string, last: string): Promise<Person>;
  /** Turns ENABLE_FAVORITES_PRIORITY on (or off) and waits until routing's cache has it. */
  setPriority(on: boolean): Promise<void>;
  /** Waits until routing's flag cache holds `on`. */
  routingSees(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleStack(opts: { minuteMs: number }): Promise<ConsoleStack> {
  if (!existsSync(path.join(DEFAULT_WEB_ROOT, 'index.html'))) {
    throw new Error('the console page is not built: run `npm run build` (npm test builds it first)');
  }
  const db = await createTestDatabase();
  const prefix = testPrefix('console');
  const logger = createLogger({ service: 'console-test', level: 'silent', pretty: false });
  const consolePort = await freePort();
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    PRIORITY_MINUTE_MS: String(opts.minuteMs),
    CONSOLE_PORT: String(consolePort),
  };
  const nc: NatsConnection = await openNats({ NATS_URL: natsServers(), NATS_PREFIX: prefix }, { name: 'console-test' });
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
    flagRefreshMs: 250,
  });
  const analytics: Analytics = await buildAnalytics({ config: { NATS_PREFIX: prefix }, logger, nc, orm: await orm() });
  const intake: Intake = await buildIntake({
    config: loadIntakeConfig(env),
    jwtSecret: DEV_JWT_SECRET,
    orm: await orm(),
    nc,
    logger,
  });
  await intake.app.listen({ port: 0, host: '127.0.0.1' });
  const intakePort = (intake.app.server.address() as AddressInfo).port;
  const gateway: Gateway = await buildGateway({
    config: loadGatewayConfig({ ...env, GATEWAY_DRAIN_MS: '200' }),
    jwtSecret: DEV_JWT_SECRET,
    nc,
    orm: await orm(4),
    logger,
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const gatewayPort = (gateway.app.server.address() as AddressInfo).port;
  const web: Console = await buildConsole({
    config: loadConsoleConfig({ ...env, INTAKE_PORT: String(intakePort), GATEWAY_PORT: String(gatewayPort) }),
    logger,
    jwtSecret: DEV_JWT_SECRET,
  });
  await web.app.listen({ port: consolePort, host: '127.0.0.1' });

  const apiUrl = `http://127.0.0.1:${intakePort}`;
  const api = (token: string) => createDibsApi({ baseUrl: apiUrl, token, retry: { baseDelayMs: 50, maxDelayMs: 500 } });
  const adminToken = await tokenFor('admin', randomUUID());
  const admin = api(adminToken);
  const routingSees = async (on: boolean): Promise<void> => {
    await eventually(
      async () =>
        new RegExp(`^routing_priority_flag_enabled(\\{[^}]*\\})? ${on ? 1 : 0}$`, 'm').test(
          (await routing.app.inject('/metrics')).body,
        ),
      5000,
      `routing's flag cache to be ${on ? 'on' : 'off'}`,
    );
  };

  return {
    db,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    apiUrl,
    admin,
    adminToken,
    async customer(name) {
      const c = await admin.admin.customers.create({ name, email: `${randomUUID()}@example.com` });
      const token = await tokenFor('customer', c.id);
      return { id: c.id, token, api: api(token) };
    },
    async mechanic(first, last) {
      const m = await admin.admin.mechanics.create({
        first_name: first,
        last_name: last,
        email: `${randomUUID()}@example.com`,
      });
      await admin.admin.mechanics.update(m.id, { status: 'approved' });
      const token = await tokenFor('mechanic', m.id);
      return { id: m.id, token, api: api(token) };
    },
    async setPriority(on) {
      await admin.admin.flags.update('ENABLE_FAVORITES_PRIORITY', { is_enabled: on });
      await routingSees(on);
    },
    routingSees,
    async close() {
      await web.close();
      await gateway.close();
      await analytics.close();
      await routing.close();
      await intake.close();
      await nc.drain();
      await Promise.all(orms.map((o) => o.close()));
      await db.drop();
      await cleanupNats(prefix);
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
