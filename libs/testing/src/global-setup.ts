import { createOrm, ensureDatabase, migrate } from '@dibs/db';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrationsFingerprint } from './fingerprint.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dibsDatabaseUrl: string;
    dibsTemplateDb: string;
    dibsNatsUrl: string;
  }
}

const DEFAULT_DB = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_NATS = 'nats://127.0.0.1:4222';

/**
 * Finds PostgreSQL and NATS (DATABASE_URL / NATS_URL, else the local defaults, else
 * testcontainers when Docker runs), migrates a template database once per run, and hands the
 * addresses to the test files. It never skips: without the services it fails, saying what to start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  let dbUrl = process.env.DATABASE_URL ?? DEFAULT_DB;
  let natsUrl = process.env.NATS_URL ?? DEFAULT_NATS;

  const dbOk = await reachable(() => pingPostgres(dbUrl));
  const natsOk = await reachable(() => pingNats(natsUrl));
  if (!dbOk || !natsOk) {
    const containers = await startContainers({ db: !dbOk, nats: !natsOk }).catch((err: Error) => {
      const missing = [
        !dbOk &&
          `PostgreSQL at ${new URL(dbUrl).host} (start it: pg_ctlcluster 15 main start, or docker compose up -d postgres)`,
        !natsOk && `NATS with JetStream at ${natsUrl} (start it: nats-server -js, or docker compose up -d nats)`,
      ].filter(Boolean);
      throw new Error(
        `integration tests need ${missing.join(' and ')}; no Docker for testcontainers either (${err.message})`,
      );
    });
    if (containers.dbUrl) dbUrl = containers.dbUrl;
    if (containers.natsUrl) natsUrl = containers.natsUrl;
    stops.push(containers.stop);
  }

  const template = `dibs_tpl_${migrationsFingerprint()}`;
  const templateUrl = withDatabase(dbUrl, template);
  const admin = new pg.Client({ connectionString: withDatabase(dbUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock(7423012)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (exists.rowCount === 0) {
      await ensureDatabase(templateUrl);
      const orm = await createOrm({ url: templateUrl, poolMax: 2 });
      try {
        await migrate(orm, templateUrl);
      } catch (err) {
        await orm.close();
        await admin.query(`drop database if exists ${pg.escapeIdentifier(template)}`);
        throw err;
      }
      await orm.close();
    }
    await admin.query('select pg_advisory_unlock(7423012)');
  } finally {
    await admin.end();
  }

  project.provide('dibsDatabaseUrl', dbUrl);
  project.provide('dibsTemplateDb', template);
  project.provide('dibsNatsUrl', natsUrl);
  return async () => {
    for (const stop of stops) await stop();
  };
}

async function reachable(probe: () => Promise<void>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch {
    return false;
  }
}

async function pingPostgres(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: 3000 });
  await c.connect();
  await c.end();
}

async function pingNats(url: string): Promise<void> {
  const nc = await connect({ servers: url.split(','), timeout: 3000 });
  const jsInfo = await nc.request('$JS.API.INFO', '', { timeout: 3000 });
  const body = jsInfo.json<{ error?: { description: string } }>();
  await nc.close();
  if (body.error) throw new Error(`JetStream is not enabled: ${body.error.description}`);
}

/** `url` pointing at database `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function startContainers(need: { db: boolean; nats: boolean }) {
  const { GenericContainer, Wait } = await import('testcontainers');
  const stops: (() => Promise<void>)[] = [];
  let dbUrl: string | undefined;
  let natsUrl: string | undefined;
  if (need.db) {
    const c = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
      .start();
    dbUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
    stops.push(async () => void (await c.stop()));
  }
  if (need.nats) {
    const c = await new GenericContainer('nats:2.10-alpine').withCommand(['-js']).withExposedPorts(4222).start();
    natsUrl = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    stops.push(async () => void (await c.stop()));
  }
  return { dbUrl, natsUrl, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}
