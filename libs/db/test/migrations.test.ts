import { randomBytes } from 'node:crypto';
import { type MigrationOwner, migrationsByOwner, migrationsList, prepareDatabase } from '@dibs/db';
import { createTestDatabase, withDatabase } from '@dibs/testing';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

const base = () => inject('dibsDatabaseUrl');
const created: string[] = [];

/** The URL of a database that does not exist yet (prepareDatabase creates it); dropped after the file. */
function freshDatabase(): string {
  const name = `dibs_mig_${randomBytes(6).toString('hex')}`;
  created.push(name);
  return withDatabase(base(), name);
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: withDatabase(base(), 'postgres') });
  await admin.connect();
  for (const name of created) await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  await admin.end();
});

/** Every table's columns, every index, constraint, trigger and function: the schema, as text. */
async function schema(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ line: string }>(`
      select format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default) as line
        from information_schema.columns where table_schema = 'public'
      union all select format('index %s', indexdef) from pg_indexes where schemaname = 'public'
      union all select format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        from pg_constraint where connamespace = 'public'::regnamespace
      union all select format('trigger %s %s', tgrelid::regclass, tgname) from pg_trigger where not tgisinternal
      union all select format('function %s', proname) from pg_proc where pronamespace = 'public'::regnamespace
      union all select format('migration %s', name) from mikro_orm_migrations
      order by 1`);
    return rows.map((r) => r.line);
  } finally {
    await c.end();
  }
}

const names = (owner: MigrationOwner) => migrationsByOwner[owner].map((m) => m.name);
const BASELINE = 'Migration20261123000001_initial';

describe('migrations per service', () => {
  it('each service applies the shared baseline and its own migrations, nothing of another', async () => {
    const url = freshDatabase();
    expect(await prepareDatabase(url, 'routing')).toEqual([BASELINE, ...names('routing')]);
    expect(await prepareDatabase(url, 'notification')).toEqual([]);
    expect(await prepareDatabase(url, 'analytics')).toEqual(names('analytics'));
    expect(await prepareDatabase(url, 'intake')).toEqual(names('intake'));
    expect(await prepareDatabase(url, 'all')).toEqual([]);
  });

  it('gives every migration to exactly one place: the baseline or one owner', () => {
    const owned = Object.values(migrationsByOwner).flatMap((list) => list.map((m) => m.name));
    expect(new Set(owned).size).toBe(owned.length);
    expect([BASELINE, ...owned].sort()).toEqual(migrationsList.map((m) => m.name).sort());
  });

  it('ends in the schema of the test template whichever service starts first, in any order', async () => {
    const template = await createTestDatabase();
    try {
      const expected = await schema(template.url);
      const owners: MigrationOwner[] = ['intake', 'routing', 'analytics'];
      const orders = owners.flatMap((a) =>
        owners.filter((b) => b !== a).map((b) => [a, b, ...owners.filter((c) => c !== a && c !== b)]),
      );
      orders.push(['notification', ...owners]);
      for (const order of orders) {
        const url = freshDatabase();
        for (const owner of order) await prepareDatabase(url, owner);
        expect(await schema(url), order.join(' → ')).toEqual(expected);
      }
    } finally {
      await template.drop();
    }
  });
});
