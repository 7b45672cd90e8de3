import { ConnectionException } from '@mikro-orm/core';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53300', // too_many_connections
]);

/** True when `err` means "the database is unreachable right now" (worth a 503 and a retry). */
export function isDbUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionException) return true;
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message)
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The Postgres error code (SQLSTATE) of `err` or its cause, if any. */
export function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One readable line for a start-up failure to reach PostgreSQL. */
export function describeDbError(err: unknown, url: string): string {
  const where = new URL(url);
  const at = `${where.hostname}:${where.port || 5432}`;
  if (isDbUnavailable(err)) {
    return `PostgreSQL is not reachable at ${at} (${(err as Error).message}). Start one: \`docker compose up -d postgres\`, or install Debian's postgresql package.`;
  }
  return `PostgreSQL at ${at} refused: ${(err as Error).message}`;
}
