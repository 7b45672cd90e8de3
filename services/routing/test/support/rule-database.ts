import { createTestDatabase, type TestDatabase } from '@dibs/testing';
import fc from 'fast-check';
import pg from 'pg';

/** A database of a rule's property test: its own, one connection, one customer to own the requests. */
export interface RuleDatabase {
  db: TestDatabase;
  client: pg.Client;
  customerId: string;
  close(): Promise<void>;
}

export async function ruleDatabase(): Promise<RuleDatabase> {
  const db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query(
    `insert into customers (name, email) values ('Dana', 'dana@x.test') returning id`,
  );
  return {
    db,
    client,
    customerId: rows[0].id,
    async close() {
      await client.end();
      await db.drop();
    },
  };
}

/** The instant the rules' property tests judge at. */
export const NOW = Date.UTC(2027, 0, 4, 12);
export const MINUTE = 60_000;

/** Instants relative to NOW, with the boundaries (exactly now, a millisecond either side) often. */
export const offsetArb = fc.oneof(
  { arbitrary: fc.constantFrom(-1, 0, 1), weight: 2 },
  { arbitrary: fc.integer({ min: -30 * MINUTE, max: 30 * MINUTE }), weight: 1 },
);
