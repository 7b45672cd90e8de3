import { createTestDatabase, type TestDatabase } from '@dibs/testing';
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
