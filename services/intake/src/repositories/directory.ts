import type pg from 'pg';

interface Entry<T> {
  value: T;
  expires: number;
}

/**
 * Short-lived cache of who exists, for the hot path (every authenticated request, every booking).
 * Only positive answers are cached, so a new customer or mechanic works at once; a deleted
 * mechanic's token keeps passing this check for at most `ttlMs` (routing re-checks status on
 * every command anyway).
 */
export function createDirectory(db: pg.Pool, ttlMs = 5000, clock: () => number = Date.now) {
  const customers = new Map<string, Entry<{ name: string; email: string }>>();
  const mechanics = new Map<string, Entry<true>>();

  function fresh<T>(map: Map<string, Entry<T>>, id: string): T | undefined {
    const e = map.get(id);
    if (!e) return undefined;
    if (e.expires < clock()) {
      map.delete(id);
      return undefined;
    }
    return e.value;
  }
  function remember<T>(map: Map<string, Entry<T>>, id: string, value: T): void {
    if (map.size > 50_000) map.clear();
    map.set(id, { value, expires: clock() + ttlMs });
  }

  return {
    async customer(id: string): Promise<{ name: string; email: string } | undefined> {
      const cached = fresh(customers, id);
      if (cached) return cached;
      const { rows } = await db.query<{ name: string; email: string }>({
        name: 'intake-customer',
        text: 'select name, email from customers where id = $1',
        values: [id],
      });
      const row = rows[0];
      if (row) remember(customers, id, { name: row.name, email: row.email });
      return row;
    },
    async mechanicExists(id: string): Promise<boolean> {
      if (fresh(mechanics, id)) return true;
      const { rowCount } = await db.query({
        name: 'intake-mechanic-exists',
        text: 'select 1 from mechanics where id = $1',
        values: [id],
      });
      if (rowCount) remember(mechanics, id, true as const);
      return Boolean(rowCount);
    },
    forgetMechanic(id: string): void {
      mechanics.delete(id);
    },
  };
}
export type Directory = ReturnType<typeof createDirectory>;
