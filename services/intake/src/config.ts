import { envPieces, loadConfig, z } from '@dibs/config';

/** A comma list of browser origins (`scheme://host[:port]`), or `*` for every origin. */
const OriginList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim().replace(/\/+$/, ''))
      .filter(Boolean),
  )
  .superRefine((origins, ctx) => {
    for (const origin of origins) {
      if (origin !== '*' && !isOrigin(origin)) {
        ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin such as https://console.example.com` });
      }
    }
  });

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

export const IntakeConfigSchema = z
  .object({
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
    /** The web console's port (CONTRACT §8): outside production its origin may call the API by default. */
    CONSOLE_PORT: z.coerce.number().int().min(1).max(65535).default(3004),
    /**
     * Browser origins allowed to call the API (CORS), comma-separated. Unset: the console's
     * `http://localhost:CONSOLE_PORT` and `http://127.0.0.1:CONSOLE_PORT` outside production, none
     * in production. `*` (every origin) is refused in production.
     */
    INTAKE_CORS_ORIGINS: OriginList.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.INTAKE_CORS_ORIGINS?.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        path: ['INTAKE_CORS_ORIGINS'],
        message: '"*" (every origin) is refused with NODE_ENV=production: list the console\'s origins',
      });
    }
  })
  .transform(({ INTAKE_CORS_ORIGINS, ...config }) => ({
    ...config,
    INTAKE_CORS_ORIGINS:
      INTAKE_CORS_ORIGINS ??
      (config.NODE_ENV === 'production'
        ? []
        : [`http://localhost:${config.CONSOLE_PORT}`, `http://127.0.0.1:${config.CONSOLE_PORT}`]),
  }));
export type IntakeConfig = z.infer<typeof IntakeConfigSchema>;

/** Reads intake's configuration from the environment (one readable line per invalid value). */
export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  return loadConfig(IntakeConfigSchema, env);
}
