import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from './orm.js';
import type { OutboxEntry, OutboxOwner } from './outbox.js';
import { type Sql, sqlOf } from './sql.js';

/** One unit of work: a fork of the service's `EntityManager` in a transaction, its SQL, its outbox. */
export interface UnitOfWork extends Sql {
  /** The fork, inside the transaction: entities found or persisted here commit with the SQL. */
  em: EntityManager;
  /** The service whose transaction this is: `enqueue` writes into its outbox. */
  outbox: OutboxOwner;
  /** Told by `enqueue` what it wrote, so it can be handed to `afterCommit` once committed. */
  queued(entries: OutboxEntry[]): void;
}

export interface UnitOfWorkOptions {
  /** Whose outbox `enqueue` writes (docs/decisions/013-table-ownership.md). */
  outbox: OutboxOwner;
  /**
   * Called with the outbox entries of a transaction right after it committed, never after a
   * rollback: the outbox fast path (ADR 002) publishes them at once instead of waiting for the
   * relay's next look, which still publishes whatever this misses (a crash, a NATS outage).
   */
  afterCommit?: (entries: OutboxEntry[]) => void;
}

/** Runs `fn` in a transaction: commits what it returns, rolls back on a throw. */
export type InTransaction = <T>(fn: (tx: UnitOfWork) => Promise<T>) => Promise<T>;

/**
 * How a service changes data (docs/decisions/014-data-access.md): each call forks the
 * `EntityManager` (its own identity map), runs `fn` in a transaction on the fork, commits (flushing
 * entity changes first) and then hands what `fn` enqueued to `afterCommit`.
 */
export function unitOfWork(orm: Orm, { outbox, afterCommit }: UnitOfWorkOptions): InTransaction {
  return async (fn) => {
    const enqueued: OutboxEntry[] = [];
    const result = await orm.em
      .fork()
      .transactional((em) => fn({ ...sqlOf(em), em, outbox, queued: (entries) => enqueued.push(...entries) }));
    if (enqueued.length > 0) afterCommit?.(enqueued);
    return result;
  };
}
