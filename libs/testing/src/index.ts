import { createHmac, randomBytes } from 'node:crypto';
import { createTokenService, type Role } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './global-setup.js';

export { withDatabase };

/** A database of its own for one test file, cloned from the migrated template. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL against it (with `$1` placeholders). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

/**
 * A checksum of every table's rows in `db`, one per table: equal before and after something that
 * must not write (a refused request), whatever table it might have touched.
 */
export async function tableChecksums(db: TestDatabase): Promise<() => Promise<Record<string, string>>> {
  const { rows } = await db.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = 'public' order by 1`,
  );
  const sql = `select ${rows
    .map(({ name }) => {
      const table = pg.escapeIdentifier(name);
      return `(select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from ${table} t) as ${table}`;
    })
    .join(', ')}`;
  return async () => (await db.query<Record<string, string>>(sql)).rows[0] as Record<string, string>;
}

/** Clones the migrated template into a fresh database (STYLE §10: one database per test file). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = inject('dibsDatabaseUrl');
  const template = inject('dibsTemplateDb');
  const name = `dibs_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  try {
    // CREATE DATABASE … TEMPLATE fails while another session is connected to the template; retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}`);
        break;
      } catch (err) {
        if (attempt > 20 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined);
  return {
    url,
    name,
    query: (sql, params) => pool.query(sql, params as unknown[]),
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
      await c.connect();
      await c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      await c.end();
    },
  };
}

/** The NATS servers the run uses. */
export function natsServers(): string[] {
  return inject('dibsNatsUrl').split(',');
}

/** A NATS_PREFIX no other test file uses, so files share one server without seeing each other. */
export function testPrefix(label = 't'): string {
  return `${label}_${randomBytes(5).toString('hex')}`;
}

/** Connects to the test NATS server. */
export function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: natsServers(), timeout: 5000 });
}

/** Deletes every stream, consumer and KV bucket under `prefix`. */
export async function cleanupNats(prefix: string): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) {
      const name = s.config.name;
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}

/** The environment a service under test runs with: its own database and prefix, short windows. */
export function serviceEnv(
  db: TestDatabase,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    NATS_URL: natsServers().join(','),
    NATS_PREFIX: prefix,
    AUTH_JWT_SECRET: DEV_JWT_SECRET,
    ...extra,
  };
}

const tokens = createTokenService(DEV_JWT_SECRET);

/** A bearer token for `role`/`sub` signed with the secret tests run with. */
export function tokenFor(role: Role, sub: string, ttlSeconds = 3600): Promise<string> {
  return tokens.sign({ role, sub }, ttlSeconds);
}

/** A token signed with the tests' secret but without an `exp` claim (which dibs refuses). */
export function tokenWithoutExp(role: Role, sub: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ role, sub, iat: Math.floor(Date.now() / 1000) })}`;
  return `${unsigned}.${createHmac('sha256', DEV_JWT_SECRET).update(unsigned).digest('base64url')}`;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/**
 * Resolves once routing's outbox in `db` holds no row about request `requestId`: every event
 * routing committed about the request has reached JetStream (a publisher deletes a row only after
 * the stream stored it). A test awaits this, instead of sleeping, before asserting that an event
 * was stored only once. Intake's `created` rows (`intake_outbox`) are left out: tests store them
 * as intake does and publish them themselves, and they stay until a relay's grace time has passed.
 */
export async function outboxDrained(db: TestDatabase, requestId: string, timeoutMs = 10_000): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from outbox where payload->'request'->>'id' = $1`,
        [requestId],
      );
      return rows[0]?.n === 0;
    },
    timeoutMs,
    `the outbox rows about request ${requestId} to be published`,
  );
}

export * from './seed-sql.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
