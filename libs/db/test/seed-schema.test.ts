import {
  createTestDatabase,
  SEED_FALLBACK_EFFECTIVENESS,
  SEED_RESPONSE_TIMES,
  SEED_SUCCESS_RATE,
  SEED_TEST_QUERY_1,
  SEED_TEST_QUERY_2,
  SEED_TEST_QUERY_3,
  SEED_TIMEOUT_RATE,
  type TestDatabase,
} from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The seed's "Testing & Verification" and "Analytics Queries" SQL, run unchanged (CONTRACT §5).
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('the seed schema', () => {
  it('has the three priority columns with the seed types, nullability and defaults', async () => {
    const { rows } = await db.query(`
      SELECT column_name, data_type, is_nullable, column_default
      FROM information_schema.columns
      WHERE table_name = 'session_requests'
        AND column_name IN ('preferred_mechanic_id', 'priority_window_minutes', 'priority_notified_at')`);
    const byName = Object.fromEntries(rows.map((r) => [r.column_name, r]));
    expect(byName.preferred_mechanic_id).toMatchObject({ data_type: 'uuid', is_nullable: 'YES', column_default: null });
    expect(byName.priority_window_minutes).toMatchObject({
      data_type: 'integer',
      is_nullable: 'NO',
      column_default: '10',
    });
    expect(byName.priority_notified_at).toMatchObject({
      data_type: 'timestamp with time zone',
      is_nullable: 'YES',
      column_default: null,
    });
  });

  it('has the foreign key to mechanics with ON DELETE SET NULL', async () => {
    const { rows } = await db.query(`
      SELECT conname, contype
      FROM pg_constraint
      WHERE conname = 'session_requests_preferred_mechanic_id_fkey'`);
    expect(rows).toEqual([{ conname: 'session_requests_preferred_mechanic_id_fkey', contype: 'f' }]);
    const def = await db.query(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'session_requests_preferred_mechanic_id_fkey'`,
    );
    expect(def.rows[0].def).toBe('FOREIGN KEY (preferred_mechanic_id) REFERENCES mechanics(id) ON DELETE SET NULL');
  });

  it('has the three indexes with the seed columns and predicates', async () => {
    const { rows } = await db.query(`
      SELECT indexname
      FROM pg_indexes
      WHERE tablename = 'session_requests'
        AND indexname LIKE '%priority%'`);
    expect(rows.map((r) => r.indexname).sort()).toEqual([
      'session_requests_priority_analytics_idx',
      'session_requests_priority_timeout_idx',
    ]);
    const defs = await db.query(
      `select indexname, indexdef from pg_indexes where tablename = 'session_requests' and indexname in
       ('session_requests_preferred_mechanic_idx', 'session_requests_priority_analytics_idx', 'session_requests_priority_timeout_idx')
       order by indexname`,
    );
    expect(defs.rows.map((r) => r.indexdef.replace(/ ON public\./, ' ON '))).toEqual([
      'CREATE INDEX session_requests_preferred_mechanic_idx ON session_requests USING btree (preferred_mechanic_id) WHERE (preferred_mechanic_id IS NOT NULL)',
      'CREATE INDEX session_requests_priority_analytics_idx ON session_requests USING btree (preferred_mechanic_id, priority_notified_at, status) WHERE (preferred_mechanic_id IS NOT NULL)',
      "CREATE INDEX session_requests_priority_timeout_idx ON session_requests USING btree (priority_notified_at, status) WHERE ((priority_notified_at IS NOT NULL) AND (status = 'pending'::text))",
    ]);
  });

  it('ships ENABLE_FAVORITES_PRIORITY switched off, as in the seed', async () => {
    const { rows } = await db.query(`select * from feature_flags where flag_key = 'ENABLE_FAVORITES_PRIORITY'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      flag_name: 'Favorites Priority Broadcast',
      is_enabled: false,
      enabled_for_roles: ['admin', 'customer'],
      rollout_percentage: 100,
    });
  });

  it('keeps a request when its preferred mechanic is deleted (FK sets null)', async () => {
    const m = await db.query(
      `insert into mechanics (first_name, last_name, email) values ('A', 'B', 'fk@x.io') returning id`,
    );
    const c = await db.query(`insert into customers (name, email) values ('C', 'fkc@x.io') returning id`);
    const r = await db.query(
      `insert into session_requests (customer_id, session_type, plan_code, preferred_mechanic_id) values ($1, 'video', 'basic', $2) returning id`,
      [c.rows[0].id, m.rows[0].id],
    );
    await db.query('delete from mechanics where id = $1', [m.rows[0].id]);
    const after = await db.query('select preferred_mechanic_id from session_requests where id = $1', [r.rows[0].id]);
    expect(after.rows).toEqual([{ preferred_mechanic_id: null }]);
  });
});

describe("the seed's queries run unchanged", () => {
  const mechanic = '00000000-0000-4000-8000-000000000001';
  const queries = {
    'test query 1': SEED_TEST_QUERY_1,
    'test query 2': SEED_TEST_QUERY_2,
    'test query 3': SEED_TEST_QUERY_3,
    'priority success rate by mechanic': SEED_SUCCESS_RATE,
    'average priority response time': SEED_RESPONSE_TIMES,
    'priority timeout rate': SEED_TIMEOUT_RATE,
    'fallback broadcast effectiveness': SEED_FALLBACK_EFFECTIVENESS,
  };

  it.each(Object.entries(queries))('%s', async (_name, sql) => {
    // Division by zero on an empty table is the seed's own behaviour for the rate queries.
    await db.query(
      `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'Ann', 'Lee', 'q@x.io', 'approved') on conflict do nothing`,
      [mechanic],
    );
    const c = await db.query(`insert into customers (name, email) values ('Q', $1) returning id`, [
      `q${Math.random()}@x.io`,
    ]);
    await db.query(
      `insert into session_requests (customer_id, session_type, plan_code, preferred_mechanic_id, routing_type, priority_notified_at)
       values ($1, 'video', 'basic', $2, 'priority_broadcast', now() - interval '11 minutes')`,
      [c.rows[0].id, mechanic],
    );
    await expect(db.query(sql, sql.includes('$1') ? [mechanic] : [])).resolves.toBeDefined();
  });
});
