import { envPieces, z } from '@dibs/config';
import type { OrmOptions } from '@dibs/db';
import type { Logger } from '@dibs/logger';

/** Routing's environment (CONTRACT §1 plus routing's own knobs). */
export const RoutingConfigSchema = z.object({
  NODE_ENV: envPieces.NODE_ENV,
  LOG_LEVEL: envPieces.LOG_LEVEL,
  DATABASE_URL: envPieces.DATABASE_URL,
  NATS_URL: envPieces.NATS_URL,
  NATS_PREFIX: envPieces.NATS_PREFIX,
  NATS_STREAM_REPLICAS: envPieces.NATS_STREAM_REPLICAS,
  HOST: envPieces.HOST,
  ROUTING_PORT: envPieces.ROUTING_PORT,
  PRIORITY_MINUTE_MS: envPieces.PRIORITY_MINUTE_MS,
  /** How long JetStream waits for an ack before redelivering; far above handling time. */
  ROUTING_ACK_WAIT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /**
   * The longest the window sweeper sleeps. It wakes at the next deadline it knows of (its own
   * windows, and the earliest in the database when it last looked); this bounds how late a
   * window opened by another replica, or by one that died, can fire.
   */
  ROUTING_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(250),
  /**
   * `created` messages in hand at once per replica. They wait on batched database work (one
   * statement opens the windows of many), so this is far above the pool size.
   */
  ROUTING_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(256),
  /** PostgreSQL connections per replica. */
  ROUTING_DB_POOL: z.coerce.number().int().min(2).max(200).default(10),
});
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;

/**
 * How routing opens its database (main.ts and the tests' fixture alike):
 * - every execution is planned for the tables as they are (`force_custom_plan`): a generic plan of
 *   a named statement, costed when the tables were small (a fresh database, a replica started
 *   before a burst) and kept while statistics do not change (autovacuum late, or off as on the CI
 *   machine), scanned every request per sweep where a custom plan probes the key; planning costs
 *   ~0.1–0.3 ms a statement, on batches;
 * - no JIT: without statistics a batch read was costed past `jit_above_cost` and compiled, 20–30
 *   ms for a statement of a few;
 * - `random_page_cost` 1.1 (routing's tables are hot in memory): at 4, a batch of 500 key probes
 *   was costed above reading the whole table, and a step's write scanned every request.
 * Found by bench:windows' sequence mode with auto_explain and EXPLAIN on 100 000 requests without
 * statistics (docs/benchmarks.md, sequences).
 */
export function routingOrmOptions(
  config: Pick<RoutingConfig, 'DATABASE_URL' | 'ROUTING_DB_POOL'>,
  logger?: Logger,
): OrmOptions {
  return {
    url: config.DATABASE_URL,
    logger,
    poolMax: config.ROUTING_DB_POOL,
    connectionTimeoutMillis: 5000,
    settings: { plan_cache_mode: 'force_custom_plan', jit: 'off', random_page_cost: 1.1 },
  };
}
