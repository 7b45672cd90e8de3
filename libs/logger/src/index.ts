import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line (tokens, secrets, auth headers). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'req.query.token',
];

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Pretty output; defaults to "stdout is a TTY and not production". */
  pretty?: boolean;
}

/** Builds the service's pino logger: JSON lines in production, pretty on a TTY, secrets redacted. */
export function createLogger({ service, level = 'info', pretty }: LoggerConfig): Logger {
  const usePretty = pretty ?? (process.stdout.isTTY === true && process.env.NODE_ENV !== 'production');
  return pino(loggerOptions({ service, level, pretty: usePretty }));
}

/** The options behind createLogger, for Fastify's `logger` option. */
export function loggerOptions({ service, level = 'info', pretty = false }: LoggerConfig): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  };
}
