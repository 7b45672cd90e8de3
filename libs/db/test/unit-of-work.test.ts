import { randomUUID } from 'node:crypto';
import { createOrm, enqueue, Mechanic, type OutboxEntry, sqlOf, unitOfWork } from '@dibs/db';
import { eventually } from '@dibs/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { useDatabase } from './support/database.js';

const given = useDatabase();

const mechanic = (email: string) => ({ first_name: 'Ada', last_name: 'Lovelace', email, status: 'approved' });
const command = (requestId: string): OutboxEntry => ({
  id: randomUUID(),
  subject: 'test.unit-of-work',
  payload: { requestId },
});

describe('sqlOf', () => {
  it('binds parameters instead of inlining them: arrays stay arrays, quotes stay data', async () => {
    const ids = [randomUUID(), randomUUID()];
    const { rows } = await sqlOf(given.orm.em).query<{ id: string; text: string }>(
      `select id::text, $2::text as text from unnest($1::uuid[]) as id order by 1`,
      [ids, `it's "quoted" ?`],
    );
    expect(rows).toEqual([...ids].sort().map((id) => ({ id, text: `it's "quoted" ?` })));
  });

  it('prepares a named statement once on the connection and runs it by name afterwards', async () => {
    const sql = sqlOf(given.orm.em);
    const statement = {
      name: 'unit-of-work-test-count',
      text: 'select count(*)::int as n from mechanics where status = $1',
    };
    expect((await sql.query<{ n: number }>({ ...statement, values: ['approved'] })).rows).toEqual([{ n: 0 }]);
    await sql.query({ ...statement, values: ['pending'] });
    const prepared = await sql.query<{ name: string; calls: number }>(
      'select name, (generic_plans + custom_plans)::int as calls from pg_prepared_statements where name = $1',
      [statement.name],
    );
    expect(prepared.rows).toEqual([{ name: statement.name, calls: 2 }]);
  });

  it('counts the rows a change touched', async () => {
    const { rowCount } = await sqlOf(given.orm.em).query('update mechanics set status = status where false');
    expect(rowCount).toBe(0);
  });
});

describe('unitOfWork', () => {
  it('commits entities, SQL and outbox rows together, then hands the rows to afterCommit', async () => {
    const committed: OutboxEntry[][] = [];
    const inTransaction = unitOfWork(given.orm, { outbox: 'routing', afterCommit: (e) => committed.push(e) });
    const email = `${randomUUID()}@example.com`;
    const message = command(randomUUID());
    const id = await inTransaction(async (tx) => {
      const m = tx.em.create(Mechanic, mechanic(email));
      await tx.em.flush();
      await tx.query('update mechanics set last_name = $2 where id = $1', [m.id, 'Byron']);
      await enqueue(tx, [message]);
      expect(committed).toEqual([]);
      return m.id;
    });
    expect(committed).toEqual([[message]]);
    expect((await given.db.query('select last_name from mechanics where id = $1', [id])).rows).toEqual([
      { last_name: 'Byron' },
    ]);
    expect((await given.db.query('select subject from outbox where id = $1', [message.id])).rows).toEqual([
      { subject: message.subject },
    ]);
  });

  it('rolls everything back on a throw and tells afterCommit nothing', async () => {
    const committed: OutboxEntry[][] = [];
    const inTransaction = unitOfWork(given.orm, { outbox: 'intake', afterCommit: (e) => committed.push(e) });
    const email = `${randomUUID()}@example.com`;
    const message = command(randomUUID());
    await expect(
      inTransaction(async (tx) => {
        tx.em.create(Mechanic, mechanic(email));
        await tx.em.flush();
        await enqueue(tx, [message]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(committed).toEqual([]);
    expect((await given.db.query('select 1 from mechanics where email = $1', [email])).rowCount).toBe(0);
    expect((await given.db.query('select 1 from intake_outbox where id = $1', [message.id])).rowCount).toBe(0);
  });

  it("prepares a named statement inside a transaction too, on the transaction's connection", async () => {
    const inTransaction = unitOfWork(given.orm, { outbox: 'routing' });
    const statement = { name: 'unit-of-work-test-in-tx', text: 'select $1::int + 1 as n' };
    const calls = await inTransaction(async (tx) => {
      expect((await tx.query<{ n: number }>({ ...statement, values: [1] })).rows).toEqual([{ n: 2 }]);
      await tx.query({ ...statement, values: [2] });
      const { rows } = await tx.query<{ calls: number }>(
        'select (generic_plans + custom_plans)::int as calls from pg_prepared_statements where name = $1',
        [statement.name],
      );
      return rows;
    });
    expect(calls).toEqual([{ calls: 2 }]);
  });

  it('gives each unit of work its own identity map', async () => {
    const inTransaction = unitOfWork(given.orm, { outbox: 'routing' });
    const email = `${randomUUID()}@example.com`;
    const id = await inTransaction(async (tx) => {
      const m = tx.em.create(Mechanic, mechanic(email));
      await tx.em.flush();
      return m.id;
    });
    await given.db.query(`update mechanics set status = 'suspended' where id = $1`, [id]);
    const seen = await inTransaction(async (tx) => (await tx.em.findOneOrFail(Mechanic, id)).status);
    expect(seen).toBe('suspended');
  });
});

it('logs an idle connection the server dropped, and the next statement gets a fresh one', async () => {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const own = await createOrm({ url: given.db.url, poolMax: 1, logger });
  try {
    const sql = sqlOf(own.em);
    const { rows } = await sql.query<{ pid: number }>('select pg_backend_pid() as pid');
    await given.db.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    await eventually(() => warnings.includes('postgres pool connection lost'));
    expect((await sql.query('select 1')).rowCount).toBe(1);
  } finally {
    await own.close();
  }
});

it('applies the settings asked for to every connection: each execution of a named statement planned afresh, no JIT, SSD page costs', async () => {
  const own = await createOrm({
    url: given.db.url,
    poolMax: 1,
    settings: { plan_cache_mode: 'force_custom_plan', jit: 'off', random_page_cost: 1.1 },
  });
  try {
    const sql = sqlOf(own.em);
    const statement = {
      name: 'plan-cache-mode-test',
      text: 'select count(*)::int as n from mechanics where status = $1',
    };
    // PostgreSQL's default switches to a generic plan after five custom ones.
    for (let i = 0; i < 8; i++) await sql.query({ ...statement, values: ['approved'] });
    const { rows } = await sql.query<{ generic: number; custom: number; mode: string; jit: string; rpc: string }>(
      `select generic_plans::int as generic, custom_plans::int as custom, current_setting('plan_cache_mode') as mode,
         current_setting('jit') as jit, current_setting('random_page_cost') as rpc
       from pg_prepared_statements where name = $1`,
      [statement.name],
    );
    expect(rows).toEqual([{ generic: 0, custom: 8, mode: 'force_custom_plan', jit: 'off', rpc: '1.1' }]);
  } finally {
    await own.close();
  }
});
