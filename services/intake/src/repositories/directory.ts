import type { Sql } from '@dibs/db';
import { LRUCache } from 'lru-cache';

/** Who is remembered at most: the least recently used beyond it are forgotten first. */
const MAX_ENTRIES = 50_000;

/**
 * Short-lived cache of who exists, for the hot path (every authenticated request, every booking).
 * Only positive answers are cached, so a new customer or mechanic works at once; a deleted
 * mechanic's token keeps passing this check for at most `ttlMs` (routing re-checks status on
 * every command anyway). A miss asks `sql` (`sqlOf(orm.em)`) with named statements, which each
 * connection prepares once (docs/decisions/011-capacity.md §4).
 */
export function createDirectory(sql: Sql, ttlMs = 5000, clock: () => number = Date.now) {
  const options = { max: MAX_ENTRIES, ttl: ttlMs, perf: { now: clock } };
  const customers = new LRUCache<string, { name: string; email: string }>(options);
  const mechanics = new LRUCache<string, true>(options);

  return {
    async customer(id: string): Promise<{ name: string; email: string } | undefined> {
      const cached = customers.get(id);
      if (cached) return cached;
      const { rows } = await sql.query<{ name: string; email: string }>({
        name: 'intake-customer',
        text: 'select name, email from customers where id = $1',
        values: [id],
      });
      const row = rows[0];
      if (row) customers.set(id, { name: row.name, email: row.email });
      return row;
    },
    async mechanicExists(id: string): Promise<boolean> {
      if (mechanics.get(id)) return true;
      const { rowCount } = await sql.query({
        name: 'intake-mechanic-exists',
        text: 'select 1 from mechanics where id = $1',
        values: [id],
      });
      if (rowCount) mechanics.set(id, true);
      return Boolean(rowCount);
    },
    forgetMechanic(id: string): void {
      mechanics.delete(id);
    },
  };
}
export type Directory = ReturnType<typeof createDirectory>;
