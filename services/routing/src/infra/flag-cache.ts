import type { Role } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import pg from 'pg';
import { type FlagState, flagEnabledFor } from '../domain/feature-flag.js';
import type { Queryable } from './pg.js';

export interface FlagCacheOptions {
  databaseUrl: string;
  db: Queryable;
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
  let running = false;
  let listener: pg.Client | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
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

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    const lost = (err?: Error) => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => undefined);
      if (running) {
        logger.warn({ err: err ? { message: err.message } : undefined }, 'feature flag listener lost; reconnecting');
        scheduleReconnect(500);
      }
    };
    client.on('notification', (n) => {
      if (n.payload === flagKey)
        void reload().catch((err) => logger.warn({ err: { message: err.message } }, 'flag reload failed'));
    });
    client.on('error', lost);
    client.on('end', () => lost());
    listener = client;
    try {
      await client.connect();
      await client.query('listen dibs_feature_flags');
    } catch (err) {
      lost(err as Error);
      return;
    }
    // Whatever changed while nobody listened sent a NOTIFY we never heard.
    await reload().catch(() => undefined);
  }

  function scheduleReconnect(delayMs: number): void {
    if (reconnectTimer || !running) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (running && !listener) void listen();
    }, delayMs);
    reconnectTimer.unref();
  }

  function scheduleRefresh(): void {
    refreshTimer = setTimeout(async () => {
      await reload().catch((err) => logger.warn({ err: { message: (err as Error).message } }, 'flag refresh failed'));
      if (running) scheduleRefresh();
    }, refreshMs);
    refreshTimer.unref();
  }

  return {
    async start() {
      running = true;
      await reload();
      await listen();
      scheduleRefresh();
    },
    async stop() {
      running = false;
      clearTimeout(refreshTimer);
      clearTimeout(reconnectTimer);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
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
