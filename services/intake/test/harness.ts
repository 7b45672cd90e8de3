import { randomUUID } from 'node:crypto';
import { DEV_JWT_SECRET } from '@dibs/config';
import { natsNames, RequestEventSchema } from '@dibs/contracts';
import { createOrm, type Orm } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
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
import { buildIntake, type Intake } from '../src/app.js';
import { type IntakeConfig, loadIntakeConfig } from '../src/config.js';

export interface IntakeHarness {
  intake: Intake;
  db: TestDatabase;
  orm: Orm;
  nc: NatsConnection;
  prefix: string;
  config: IntakeConfig;
  adminToken: string;
  /** Creates a customer through the API and returns its id and token. */
  customer(name?: string): Promise<{ id: string; token: string }>;
  /** Creates a mechanic through the API (approved unless told otherwise). */
  mechanic(status?: 'approved' | 'pending' | 'suspended'): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  relay?: boolean;
  env?: Record<string, string>;
  /** Overrides for where intake finds PostgreSQL / NATS (e.g. through a TcpProxy). */
  databaseUrl?: (db: TestDatabase) => string;
  natsServers?: string[];
}

/** Intake against its own database and NATS prefix, driven with `app.inject`. */
export async function startIntake(opts: HarnessOptions = {}): Promise<IntakeHarness> {
  const db = await createTestDatabase();
  const prefix = testPrefix('in');
  const databaseUrl = opts.databaseUrl?.(db) ?? db.url;
  const config = loadIntakeConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    NATS_URL: (opts.natsServers ?? natsServers()).join(','),
    NATS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const logger = createLogger({ service: 'intake-test', level: 'silent', pretty: false });
  // Opened as main.ts opens it: the pool's size and wait are intake's own settings.
  const orm = await createOrm({
    url: databaseUrl,
    poolMax: config.INTAKE_DB_POOL,
    connectionTimeoutMillis: 5000,
  });
  const nc = opts.natsServers
    ? await connectNats({ servers: opts.natsServers, name: 'intake-test' })
    : await connectTestNats();
  await provisionStreams(await jetstreamManager(nc), natsNames(prefix));
  const intake = await buildIntake({ config, jwtSecret: DEV_JWT_SECRET, orm, nc, logger, relay: opts.relay ?? true });
  const adminToken = await tokenFor('admin', randomUUID());
  let n = 0;
  const unique = () => `${Date.now().toString(36)}${(n++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  return {
    intake,
    db,
    orm,
    nc,
    prefix,
    config,
    adminToken,
    async customer(name = 'Casey Customer') {
      const res = await intake.app.inject({
        method: 'POST',
        url: '/v1/admin/customers',
        headers: { authorization: `Bearer ${adminToken}` },
        payload: { name, email: `c-${unique()}@example.com` },
      });
      if (res.statusCode !== 201) throw new Error(`customer: ${res.statusCode} ${res.body}`);
      const id = res.json().id as string;
      return { id, token: await tokenFor('customer', id) };
    },
    async mechanic(status = 'approved') {
      const res = await intake.app.inject({
        method: 'POST',
        url: '/v1/admin/mechanics',
        headers: { authorization: `Bearer ${adminToken}` },
        payload: { first_name: 'Max', last_name: `Mech${n}`, email: `m-${unique()}@example.com` },
      });
      if (res.statusCode !== 201) throw new Error(`mechanic: ${res.statusCode} ${res.body}`);
      const id = res.json().id as string;
      if (status !== 'pending') {
        await intake.app.inject({
          method: 'PATCH',
          url: `/v1/admin/mechanics/${id}`,
          headers: { authorization: `Bearer ${adminToken}` },
          payload: { status },
        });
      }
      return { id, token: await tokenFor('mechanic', id) };
    },
    async close() {
      await intake.close();
      await nc.close();
      await orm.close();
      await db.drop();
      await cleanupNats(prefix);
    },
  };
}

/** Authorization header for a token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The `created` event of request `id` in the EVENTS stream, with its `Nats-Msg-Id`. */
export async function createdEventOf(h: IntakeHarness, id: string) {
  const jsm = await jetstreamManager(h.nc);
  const names = natsNames(h.prefix);
  return eventually(
    async () => {
      const info = await jsm.streams.info(names.streams.events);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(names.streams.events, { seq }).catch(() => null);
        if (!m) continue;
        const event = RequestEventSchema.parse(m.json());
        if (event.request.id === id && m.subject === names.subjects.event('created'))
          return { event, msgId: m.header?.get('Nats-Msg-Id') };
      }
      return undefined;
    },
    10_000,
    `created event of ${id}`,
  );
}
