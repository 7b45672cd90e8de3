import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery } from 'kysely';
import pg from 'pg';

/**
 * A statement as the repositories write it: `$n` placeholders, parameters bound by the driver
 * (never inlined into the text). A `name` prepares it once per connection, so PostgreSQL skips
 * parse and plan on every later run (docs/decisions/011-capacity.md §4); give one to the hot
 * statements whose text never changes, never to text built per call.
 */
export interface Statement {
  name?: string;
  text: string;
  values?: readonly unknown[];
}

export interface Rows<R> {
  rows: R[];
  /** Rows returned, or changed by an INSERT/UPDATE/DELETE/MERGE without `returning`. */
  rowCount: number;
}

/** Runs SQL on a MikroORM `EntityManager`: inside its transaction when it is in one, else on the pool. */
export interface Sql {
  query<R = Record<string, unknown>>(statement: Statement | string, values?: readonly unknown[]): Promise<Rows<R>>;
}

/**
 * The SQL face of `em` (docs/decisions/014-data-access.md), on MikroORM's own pool either way.
 * Inside a `transactional` fork it goes through the Kysely instance MikroORM runs on
 * (`em.getKysely()`, bound to the transaction), so an entity change and a set-based statement of
 * one unit of work share a connection and a commit. Outside one, the statement needs no binding
 * and runs straight on that pool (`getNativeClient()`), a fifth less client CPU per statement than
 * through Kysely. Not `em.execute`: it inlines every parameter into the text, which PostgreSQL must
 * then parse and plan anew each time, and which turns an array parameter into a list.
 */
export function sqlOf(em: EntityManager): Sql {
  let pool: pg.Pool | undefined;
  return {
    async query<R>(statement: Statement | string, values: readonly unknown[] = []): Promise<Rows<R>> {
      const { name, text, values: bound = values } = typeof statement === 'string' ? { text: statement } : statement;
      if (!em.isInTransaction()) {
        pool ??= await em.getConnection().getNativeClient();
        const result = await pool.query(
          name === undefined ? { text, values: [...bound] } : { name, text, values: [...bound] },
        );
        return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
      }
      if (name !== undefined) preparedNames.set(text, name);
      const result = await em.getKysely().executeQuery<R>(CompiledQuery.raw(text, [...bound]));
      const changed = result.numAffectedRows;
      return { rows: result.rows as R[], rowCount: changed === undefined ? result.rows.length : Number(changed) };
    },
  };
}

// Statement text → its prepared name. Kysely hands the driver only text and values, so the names
// given to `query` inside a transaction reach the connection through this registry, which
// `PreparingClient` consults.
// It holds each hot statement's constant text once (a handful per service), for the process.
const preparedNames = new Map<string, string>();

/**
 * `pg`'s client, preparing the statements `sqlOf(…).query` was given a name for. MikroORM's pool is
 * built with it (`createOrm`); every other statement runs unnamed, exactly as `pg` runs it.
 */
export class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's `query` has a dozen overloads; this forwards them all.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values)) {
      const name = preparedNames.get(config);
      if (name !== undefined) return super.query({ name, text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}
