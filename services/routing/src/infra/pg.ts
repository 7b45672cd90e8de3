import type { OutboxEntry, SqlExecutor } from '@dibs/db';
import type pg from 'pg';

/** A connection (or the pool) that runs `$n`-placeholder SQL. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** An open transaction: `$n` queries, plus `execute` with `?` placeholders for the outbox's `enqueue`. */
export interface Tx extends Queryable, SqlExecutor {}

// Where each pool's committed outbox rows go right after the commit (the outbox fast path). Kept
// beside the pool so every transaction helper call site stays as it is.
const committedSinks = new WeakMap<pg.Pool, (entries: OutboxEntry[]) => void>();

/** After each commit on `pool`, hands the outbox rows that transaction enqueued to `sink`. */
export function onCommittedOutbox(pool: pg.Pool, sink: (entries: OutboxEntry[]) => void): void {
  committedSinks.set(pool, sink);
}

/** Hands outbox rows that just committed (in any statement on `pool`) to its sink: the fast path. */
export function committedOutbox(pool: pg.Pool, entries: OutboxEntry[]): void {
  if (entries.length > 0) committedSinks.get(pool)?.(entries);
}

/** Runs `fn` in a transaction: commits what it returns, rolls back on a throw. */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const enqueued: OutboxEntry[] = [];
  let broken = false;
  // A connection lost between two statements surfaces as an 'error' event on the checked-out
  // client (the pool only listens on idle ones); the next query rejects anyway, so just note it.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('begin');
    const tx: Tx = {
      query: client.query.bind(client) as Tx['query'],
      execute: (sql: string, params: unknown[] = []) => client.query(numbered(sql), params),
      outbox: 'routing',
      queued: (entries) => enqueued.push(...entries),
    };
    const result = await fn(tx);
    await client.query('commit');
    committedOutbox(pool, enqueued);
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.off('error', onError);
    // A client whose connection died or whose rollback failed must not go back to the pool.
    client.release(broken);
  }
}

/** `?` placeholders → `$1, $2, …` (the outbox writes its SQL for MikroORM's `execute`). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
