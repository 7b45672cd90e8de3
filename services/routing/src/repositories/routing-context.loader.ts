import type { Sql } from '@dibs/db';
import { createBatcher } from '../infra/batcher.js';
import { loadRoutingContexts, type RoutingContext } from './session-requests.repository.js';

/**
 * Loads routing contexts for concurrent callers in one query. When thousands of windows end
 * together their redeliveries arrive together, and this turns thousands of reads into a handful.
 */
export function createRoutingContextLoader(db: Sql): (id: string) => Promise<RoutingContext | null> {
  return createBatcher(async (ids: string[]) => {
    const found = await loadRoutingContexts(db, [...new Set(ids)]);
    return ids.map((id) => found.get(id) ?? null);
  }, 500);
}
