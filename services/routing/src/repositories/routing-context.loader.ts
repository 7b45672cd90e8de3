import type { Queryable } from '../infra/pg.js';
import { loadRoutingContexts, type RoutingContext } from './session-requests.repository.js';

/**
 * Loads routing contexts for concurrent callers in one query: every call made in the same turn of
 * the event loop joins one `where id = any(…)` round trip. When thousands of windows end together,
 * their redeliveries arrive together, and this turns thousands of reads into a handful.
 */
export function createRoutingContextLoader(db: Queryable, maxBatch = 500) {
  let queue: { id: string; resolve: (c: RoutingContext | null) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (let i = 0; i < batch.length; i += maxBatch) {
      const part = batch.slice(i, i + maxBatch);
      try {
        const found = await loadRoutingContexts(db, [...new Set(part.map((p) => p.id))]);
        for (const p of part) p.resolve(found.get(p.id) ?? null);
      } catch (err) {
        for (const p of part) p.reject(err);
      }
    }
  }

  return {
    load(id: string): Promise<RoutingContext | null> {
      return new Promise((resolve, reject) => {
        queue.push({ id, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}
export type RoutingContextLoader = ReturnType<typeof createRoutingContextLoader>;
