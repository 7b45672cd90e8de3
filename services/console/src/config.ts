import { envPieces, loadConfig, z } from '@dibs/config';

/** An absolute URL with one of `protocols`, without a trailing slash. */
const url = (protocols: string[], example: string) =>
  z
    .string()
    .transform((v) => v.trim().replace(/\/+$/, ''))
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL such as ${example}` },
    );

export const ConsoleConfigSchema = z.object({
  NODE_ENV: envPieces.NODE_ENV,
  LOG_LEVEL: envPieces.LOG_LEVEL,
  HOST: envPieces.HOST,
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  /**
   * Where the page finds the HTTP API and the gateway (CONTRACT §8). Unset: the host the page was
   * loaded from, on INTAKE_PORT and GATEWAY_PORT (what `npm start` runs).
   */
  CONSOLE_API_URL: url(['http:', 'https:'], 'https://api.dibs.example').optional(),
  CONSOLE_WS_URL: url(['ws:', 'wss:'], 'wss://ws.dibs.example/v1/ws')
    // The gateway's path, when only its origin is given.
    .transform((v) => (new URL(v).pathname === '/' ? `${v}/v1/ws` : v))
    .optional(),
  INTAKE_PORT: envPieces.INTAKE_PORT,
  GATEWAY_PORT: envPieces.GATEWAY_PORT,
  /** Signs the development sign-in's tokens; read outside production only (there is no such sign-in in production). */
  AUTH_JWT_SECRET: envPieces.AUTH_JWT_SECRET,
  AUTH_MAX_TOKEN_TTL: envPieces.AUTH_MAX_TOKEN_TTL,
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;

/** Reads the console's configuration from the environment (one readable line per invalid value). */
export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  return loadConfig(ConsoleConfigSchema, env);
}
