import { envPieces, loadConfig, z } from '@dibs/config';

export const IntakeConfigSchema = z.object({
  NODE_ENV: envPieces.NODE_ENV,
  LOG_LEVEL: envPieces.LOG_LEVEL,
  HOST: envPieces.HOST,
  INTAKE_PORT: envPieces.INTAKE_PORT,
  DATABASE_URL: envPieces.DATABASE_URL,
  NATS_URL: envPieces.NATS_URL,
  NATS_PREFIX: envPieces.NATS_PREFIX,
  NATS_STREAM_REPLICAS: envPieces.NATS_STREAM_REPLICAS,
  AUTH_JWT_SECRET: envPieces.AUTH_JWT_SECRET,
  AUTH_MAX_TOKEN_TTL: envPieces.AUTH_MAX_TOKEN_TTL,
  PRIORITY_WINDOW_MINUTES: envPieces.PRIORITY_WINDOW_MINUTES,
  /** Connections this replica may hold; the bench sizes the bare baseline the same way. */
  INTAKE_DB_POOL: z.coerce.number().int().min(1).max(200).default(20),
  /**
   * Requests this replica handles at once; past it, more are refused at once with 503 and
   * Retry-After instead of queueing (load shedding, docs/benchmarks.md § bench:system).
   */
  INTAKE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(32),
  /** Replies slower than this from routing/analytics become 503. */
  INTAKE_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
});
export type IntakeConfig = z.infer<typeof IntakeConfigSchema>;

/** Reads intake's configuration from the environment (one readable line per invalid value). */
export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  return loadConfig(IntakeConfigSchema, env);
}
