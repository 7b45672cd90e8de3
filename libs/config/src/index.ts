import { z } from 'zod';

/** The development secret `npm start` uses; refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'dibs-dev-secret-do-not-use-in-production-0123456789';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Env pieces shared by services; each service composes the ones it reads. */
export const envPieces = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .default('postgres://postgres@127.0.0.1:5432/dibs')
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((list) => list.length > 0, 'needs at least one server'),
  NATS_PREFIX: z
    .string()
    .default('dibs')
    .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), 'only letters, digits, "_" and "-" (it names streams and subjects)'),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Seconds a token may still have to live when presented; a token expiring later is refused. */
  AUTH_MAX_TOKEN_TTL: z.coerce
    .number()
    .int()
    .min(60)
    .max(366 * 24 * 3600)
    .default(24 * 3600),
  INTAKE_PORT: port(3000),
  GATEWAY_PORT: port(3001),
  ROUTING_PORT: port(3002),
  ANALYTICS_PORT: port(3003),
  HOST: z.string().default('0.0.0.0'),
  /** JetStream replicas of dibs' streams: 1 on one server, 3 on a production cluster. */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  PRIORITY_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  PRIORITY_MINUTE_MS: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
} as const;

/**
 * Parses `env` with `schema`. On failure throws a ConfigError whose message is one readable line
 * per invalid variable (`NAME: problem`), so a service refuses to start with a clear reason.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings count as unset: `FOO= node main.js` must not turn a default into an error.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(env)';
    const raw = cleaned[String(issue.path[0])];
    const shown = raw === undefined || /SECRET|PASSWORD|TOKEN/i.test(key) ? '' : ` (got "${raw}")`;
    return `${key}: ${issue.message}${shown}`;
  });
  throw new ConfigError(lines);
}

/** Invalid configuration; `lines` holds one readable message per invalid value. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(`invalid configuration: ${lines.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Resolves the JWT secret: the configured one, else the dev secret outside production.
 * In production a missing or dev secret is a fatal error, never a silent fallback.
 */
export function resolveJwtSecret(cfg: { NODE_ENV: string; AUTH_JWT_SECRET?: string | undefined }): string {
  if (cfg.NODE_ENV === 'production') {
    if (!cfg.AUTH_JWT_SECRET) throw new ConfigError(['AUTH_JWT_SECRET: required when NODE_ENV=production']);
    if (cfg.AUTH_JWT_SECRET === DEV_JWT_SECRET)
      throw new ConfigError(['AUTH_JWT_SECRET: the development secret is refused when NODE_ENV=production']);
    return cfg.AUTH_JWT_SECRET;
  }
  return cfg.AUTH_JWT_SECRET ?? DEV_JWT_SECRET;
}

/** Runs a service's start-up and turns a ConfigError into one readable stderr line and exit code 78. */
export async function runMain(name: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(78);
    }
    if (err instanceof StartupError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(69);
    }
    throw err;
  }
}

/** A dependency needed at start-up is unreachable; the message says which and where. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export { z };
