import { randomBytes } from 'node:crypto';
import { createOrm, ensureDatabase, migrate, type Orm } from '@dibs/db';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';

/** A fresh, migrated database for one benchmark run; `drop()` removes it. */
export async function benchDatabase(baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/dibs') {
  const url = new URL(baseUrl);
  url.pathname = `/dibs_bench_${randomBytes(4).toString('hex')}`;
  const dbUrl = url.toString();
  await ensureDatabase(dbUrl);
  const orm: Orm = await createOrm({ url: dbUrl, poolMax: 2 });
  await migrate(orm, dbUrl);
  await orm.close();
  return {
    url: dbUrl,
    async drop() {
      const admin = new URL(dbUrl);
      admin.pathname = '/postgres';
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`drop database if exists ${pg.escapeIdentifier(url.pathname.slice(1))} with (force)`);
      await c.end();
    },
  };
}

/** Deletes every stream and KV bucket a benchmark created under `prefix`. */
export async function deleteNatsPrefix(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const s of jsm.streams.list()) names.push(s.config.name);
  for (const name of names) {
    if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`))
      await jsm.streams.delete(name).catch(() => false);
  }
}
