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

/** A request as the rules' property tests generate it: instants as offsets from NOW, in ms. */
export interface RuleRequest {
  status: string;
  preferred: string | null;
  windowMinutes: number;
  /** The window's deadline; the window opened `windowMinutes` before it. Null: never offered. */
  deadline: number | null;
  broadcast: number | null;
  /** Who accepted it (a mechanic id), or null. */
  winner: string | null;
}

/** Inserts `r` as a priority request of `customerId` (in the caller's transaction, if any); returns its id. */
export async function insertRuleRequest(client: pg.Client, customerId: string, r: RuleRequest): Promise<string> {
  const at = (o: number | null) => (o === null ? null : new Date(NOW + o));
  const { rows } = await client.query(
    `insert into session_requests (customer_id, session_type, plan_code, status, routing_type, preferred_mechanic_id,
       priority_window_minutes, priority_notified_at, priority_expires_at, broadcast_at, mechanic_id)
     values ($1, 'video', 'basic', $2, 'priority_broadcast', $3, $4, $5, $6, $7, $8) returning id`,
    [
      customerId,
      r.status,
      r.preferred,
      r.windowMinutes,
      r.deadline === null ? null : at(r.deadline - r.windowMinutes * MINUTE),
      at(r.deadline),
      at(r.broadcast),
      r.winner,
    ],
  );
  return rows[0].id as string;
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
