import type { Logger } from '@dibs/logger';
import pg from 'pg';

export interface PoolOptions {
  url: string;
  /** Connections this replica keeps at most. */
  max: number;
  logger: Logger;
  /** How long a query waits for a new connection before failing; unset waits as long as it takes. */
  connectionTimeoutMillis?: number;
}

/**
 * A service's own `pg` pool, opened in `main.ts` and handed to `buildX` (which never connects).
 * An idle connection lost (PostgreSQL restarting, a network cut) is logged, never fatal.
 */
export function createPool({ url, max, logger, connectionTimeoutMillis }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis }),
  });
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'postgres pool connection lost'));
  return pool;
}
