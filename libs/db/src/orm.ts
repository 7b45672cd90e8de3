import { StartupError } from '@dibs/config';
import type { Logger } from '@dibs/logger';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { entities } from './entities/index.js';
import { describeDbError } from './errors.js';
import { type MigrationEntry, type MigrationOwner, migrationsList, migrationsOf } from './migrations/index.js';
import { PreparingClient } from './sql.js';

export type Orm = MikroORM;

export interface OrmOptions {
  url: string;
  logger?: Logger;
  /** Pool size; each replica keeps at most this many connections. */
  poolMax?: number;
  /** What `migrate` applies: every migration unless told (see `migrationsOf`). */
  migrations?: MigrationEntry[];
  /** How long a query waits for a free connection before failing; unset waits as long as it takes. */
  connectionTimeoutMillis?: number;
  /** PostgreSQL settings for every connection of the pool (the server's defaults when unset). */
  settings?: SessionSettings;
}

/**
 * What a service may set on its connections:
 * - `plan_cache_mode: 'force_custom_plan'` keeps the named statements' saved parse but plans each
 *   execution for the tables as they are: a generic plan is costed once, on the tables of the
 *   moment it was made, and kept for the connection's life unless statistics change (ADR 014).
 * - `jit: 'off'`: compiling a statement whose estimated cost passes `jit_above_cost` takes tens of
 *   ms, which a statement of a few ms should never pay (estimates run high where statistics lag).
 */
export interface SessionSettings {
  plan_cache_mode?: 'auto' | 'force_custom_plan';
  jit?: 'on' | 'off';
  /**
   * The planner's cost of a page read out of order (4 by default, a spinning disk's): 1.1 for data
   * that is in memory or on SSD, so that probing a key is not costed as four sequential reads.
   */
  random_page_cost?: number;
}

/**
 * Opens a service's one way to its data (docs/decisions/014-data-access.md): MikroORM with the
 * entities, the explicit migrations list and a pool of `poolMax` connections whose clients prepare
 * the named hot statements (`sqlOf`). Opened in `main.ts`; call `orm.close()` to free it.
 * An idle connection lost (PostgreSQL restarting, a network cut) is logged, never fatal.
 */
export async function createOrm({
  url,
  logger,
  poolMax = 10,
  migrations = migrationsList,
  connectionTimeoutMillis,
  settings = {},
}: OrmOptions): Promise<Orm> {
  return MikroORM.init({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    // One ledger for every owner: names are unique, and each owner's migrator skips what it does
    // not list, so a database migrated by an earlier release (one list for all) needs no copying.
    migrations: { migrationsList: migrations, tableName: 'mikro_orm_migrations', silent: true, snapshot: false },
    pool: { min: 0, max: poolMax },
    // Merged into the options of the `pg` pool MikroORM builds (its type parsers stay).
    driverOptions: {
      Client: PreparingClient,
      ...(connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis }),
      // Startup parameters: in force from the connection's first statement.
      ...(Object.keys(settings).length === 0
        ? {}
        : {
            options: Object.entries(settings)
              .map(([name, value]) => `-c ${name}=${value}`)
              .join(' '),
          }),
      // MikroORM keeps a dropped connection from being fatal but reports it on its own logger,
      // which is off (`debug: false`): say it on ours.
      onPoolCreated: (pool: pg.Pool) =>
        pool.on('error', (err) => logger?.warn({ err: { message: err.message } }, 'postgres pool connection lost')),
    },
    // Every request and message works in its own fork; the global context would leak identity maps.
    allowGlobalContext: false,
    debug: false,
    ...(logger ? { logger: (msg: string) => logger.debug({ orm: true }, msg) } : {}),
  });
}

/** Creates the database named in `url` when it does not exist yet (CONTRACT §1). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.slice(1));
  if (!dbName) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [dbName]);
    if (found.rowCount === 0) {
      try {
        await client.query(`create database ${pg.escapeIdentifier(dbName)}`);
      } catch (err) {
        // Two processes may race to create it; the loser sees 42P04 (duplicate_database).
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations and returns the names applied. Concurrent callers (several replicas,
 * a Job racing `npm start`) queue on a session advisory lock, so each migration runs once.
 */
export async function migrate(orm: Orm, url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await lock.end();
  }
}

const MIGRATION_LOCK = 7_423_011;

/**
 * What every service does before it starts (CONTRACT §1): create the database if missing and apply
 * the shared baseline and its own pending migrations (`owner`; `'all'` for `npm run migrate`)
 * under the migration lock, so any service can start first, alone or with replicas, and never
 * race another service, `npm run migrate` or the Kubernetes migrate Job.
 * Returns the migrations applied; throws StartupError (one readable line) when PostgreSQL is unreachable.
 */
export async function prepareDatabase(url: string, owner: MigrationOwner | 'all'): Promise<string[]> {
  try {
    await ensureDatabase(url);
  } catch (err) {
    throw new StartupError(describeDbError(err, url));
  }
  const orm = await createOrm({ url, poolMax: 2, migrations: migrationsOf(owner) });
  try {
    return await migrate(orm, url);
  } finally {
    await orm.close();
  }
}
