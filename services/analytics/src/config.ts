import { envPieces, loadConfig, z } from '@dibs/config';

export const AnalyticsConfigSchema = z.object({
  NODE_ENV: envPieces.NODE_ENV,
  LOG_LEVEL: envPieces.LOG_LEVEL,
  DATABASE_URL: envPieces.DATABASE_URL,
  NATS_URL: envPieces.NATS_URL,
  NATS_PREFIX: envPieces.NATS_PREFIX,
  NATS_STREAM_REPLICAS: envPieces.NATS_STREAM_REPLICAS,
  HOST: envPieces.HOST,
  ANALYTICS_PORT: envPieces.ANALYTICS_PORT,
});
export type AnalyticsConfig = z.infer<typeof AnalyticsConfigSchema>;

/** Reads analytics' configuration; throws a ConfigError naming every invalid variable. */
export function loadAnalyticsConfig(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig {
  return loadConfig(AnalyticsConfigSchema, env);
}
