import type { Role } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import { type BackgroundLoop, every, keepRunning, type Periodic } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import pg from 'pg';
import { type FlagState, flagEnabledFor } from '../domain/feature-flag.js';

export interface FlagCacheOptions {
  databaseUrl: string;
  db: Sql;
  flagKey: string;
  logger: Logger;
  /** Safety-net re-read, for a NOTIFY lost while the listener was reconnecting. */
  refreshMs?: number;
}

export interface FlagCache {
  /** Loads the flag once (throws if the database is unreachable) and starts listening. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the flag is on for this user; throws if it could never be read. */
  enabledFor(role: Role, subjectId: string): boolean;
  /** The cached row (null: no such flag), undefined before the first read. */
  current(): FlagState | null | undefined;
  /** Re-reads the flag now. */
  reload(): Promise<void>;
}

/**
 * The feature flag, cached in memory: never read per message, yet a change through the API or
 * plain SQL reaches it within milliseconds through the `dibs_feature_flags` NOTIFY trigger. The
 * listener reconnects on its own (and re-reads, since changes made meanwhile sent no NOTIFY it
 * heard); a periodic re-read covers anything else.
 */
export function createFlagCache(opts: FlagCacheOptions): FlagCache {
  const { databaseUrl, db, flagKey, logger } = opts;
  const refreshMs = opts.refreshMs ?? 5000;
  let flag: FlagState | null | undefined;
  let listening: BackgroundLoop | undefined;
  let refresh: Periodic | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;

  async function read(): Promise<void> {
    const { rows } = await db.query<FlagState>(
      `select flag_key, is_enabled, enabled_for_roles, rollout_percentage from feature_flags where flag_key = $1`,
      [flagKey],
    );
    const next = rows[0] ?? null;
    if (JSON.stringify(next) !== JSON.stringify(flag)) logger.info({ flag: next }, 'feature flag loaded');
    flag = next;
  }

  // Coalesces bursts of NOTIFYs into at most one read in flight plus one after it.
  function reload(): Promise<void> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = read().finally(() => {
      inFlight = undefined;
      if (again) {
        again = false;
        void reload().catch(() => undefined);
      }
    });
    return inFlight;
  }

  /**
   * One LISTEN connection, held until it is lost (then the loop opens another 500 ms later).
   * `ready` is called once it listens, or once it failed to.
   */
  async function listen(signal: AbortSignal, ready: () => void): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    let stopped = (): void => {};
    const lost = new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('end', () => resolve());
      stopped = () => resolve();
      signal.addEventListener('abort', stopped, { once: true });
    });
    lost.catch(() => undefined);
    client.on('notification', (n) => {
      if (n.payload === flagKey)
        void reload().catch((err) => logger.warn({ err: { message: err.message } }, 'flag reload failed'));
    });
    try {
      await client.connect();
      await client.query('listen dibs_feature_flags');
      // Whatever changed while nobody listened sent a NOTIFY we never heard.
      await reload().catch(() => undefined);
      ready();
      await lost;
    } finally {
      ready();
      signal.removeEventListener('abort', stopped);
      await client.end().catch(() => undefined);
    }
  }

  return {
    async start() {
      await reload();
      // Started once the flag was read, listening before start() returns: a change made right after
      // it is heard at once.
      await new Promise<void>((ready) => {
        listening = keepRunning((signal) => listen(signal, ready), {
          name: 'feature flag listener',
          logger,
          retryMs: 500,
          idleMs: 500,
        });
      });
      refresh = every(refreshMs, () => reload(), { name: 'feature flag refresh', logger });
    },
    async stop() {
      await refresh?.stop();
      await listening?.stop();
      await inFlight?.catch(() => undefined);
    },
    enabledFor(role, subjectId) {
      if (flag === undefined) throw new Error('feature flags not loaded yet');
      return flagEnabledFor(flag, role, subjectId);
    },
    current: () => flag,
    reload,
  };
}
