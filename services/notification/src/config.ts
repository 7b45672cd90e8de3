import { envPieces, loadConfig, z } from '@dibs/config';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const GatewayConfigSchema = z
  .object({
    NODE_ENV: envPieces.NODE_ENV,
    LOG_LEVEL: envPieces.LOG_LEVEL,
    HOST: envPieces.HOST,
    GATEWAY_PORT: envPieces.GATEWAY_PORT,
    DATABASE_URL: envPieces.DATABASE_URL,
    NATS_URL: envPieces.NATS_URL,
    NATS_PREFIX: envPieces.NATS_PREFIX,
    NATS_STREAM_REPLICAS: int(1, 5, 1),
    AUTH_JWT_SECRET: envPieces.AUTH_JWT_SECRET,
    AUTH_MAX_TOKEN_TTL: envPieces.AUTH_MAX_TOKEN_TTL,
    /** The web console's port (CONTRACT §8): outside production its origin may connect by default. */
    CONSOLE_PORT: int(1, 65535, 3004),
    /**
     * Browser origins allowed to connect (comma list); clients that send no `Origin` (non-browsers)
     * always may. Unset: the console's `http://localhost:CONSOLE_PORT` and
     * `http://127.0.0.1:CONSOLE_PORT` outside production, none in production. `*` allows every
     * origin, and is refused in production.
     */
    GATEWAY_ALLOWED_ORIGINS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim().replace(/\/+$/, ''))
          .filter(Boolean),
      )
      .optional(),
    /** Server ping interval; a peer that misses a whole interval is dropped (≤ 2 intervals). */
    GATEWAY_HEARTBEAT_MS: int(100, 600_000, 15_000),
    GATEWAY_MAX_CONNECTIONS_PER_MECHANIC: int(1, 1000, 5),
    /** Client frames per second per connection (token bucket holding 2 s worth). */
    GATEWAY_RATE_LIMIT: int(1, 10_000, 20),
    /** Violations (bad frames, rate limit) a connection may pile up before it is closed with 1008. */
    GATEWAY_ABUSE_LIMIT: int(1, 10_000, 10),
    /** A client whose unsent bytes pass this is closed with 1013 instead of growing memory. */
    GATEWAY_MAX_BUFFERED_BYTES: int(1024, 1 << 30, 1 << 20),
    /** How often the approved status of connected mechanics is re-read (who gets broadcasts). */
    GATEWAY_STATUS_REFRESH_MS: int(100, 600_000, 2000),
    /** Presence entries expire after this unless refreshed (refreshed every third of it). */
    GATEWAY_PRESENCE_TTL_MS: int(1000, 3_600_000, 60_000),
    /** accept/decline answered `unavailable` when routing does not reply within this. */
    GATEWAY_COMMAND_TIMEOUT_MS: int(100, 60_000, 5000),
    /** Most requests one snapshot lists (newest first); a bound on a reconnect storm's cost. */
    GATEWAY_SNAPSHOT_LIMIT: int(1, 10_000, 1000),
    GATEWAY_DB_POOL: int(1, 200, 10),
    /** How long shutdown waits for clients to close after 1012 before cutting them. */
    GATEWAY_DRAIN_MS: int(0, 120_000, 5000),
    /** Identifies this replica in presence and logs; defaults to hostname + random suffix. */
    GATEWAY_INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, "_" and "-" (it is a KV key token)')
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.GATEWAY_ALLOWED_ORIGINS?.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_ALLOWED_ORIGINS'],
        message: '"*" (every origin) is refused with NODE_ENV=production: list the console\'s origins',
      });
    }
  })
  .transform(({ GATEWAY_ALLOWED_ORIGINS, ...config }) => ({
    ...config,
    GATEWAY_ALLOWED_ORIGINS:
      GATEWAY_ALLOWED_ORIGINS ??
      (config.NODE_ENV === 'production'
        ? []
        : [`http://localhost:${config.CONSOLE_PORT}`, `http://127.0.0.1:${config.CONSOLE_PORT}`]),
  }));
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

/** Reads the gateway's configuration from the environment (one readable line per invalid value). */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(GatewayConfigSchema, env);
}
