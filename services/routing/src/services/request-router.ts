import { enqueue, isDbUnavailable } from '@dibs/db';
import type { Logger } from '@dibs/logger';
import type pg from 'pg';
import { decideRouting, type RoutingDecision } from '../domain/routing-decision.js';
import type { FlagCache } from '../infra/flag-cache.js';
import { inTransaction } from '../infra/pg.js';
import type { RoutingMetrics } from '../metrics.js';
import { createRoutingContextLoader } from '../repositories/routing-context.loader.js';
import {
  broadcastDueWindows,
  markBroadcast,
  markPriorityNotified,
  type RequestRow,
  toState,
} from '../repositories/session-requests.repository.js';
import { broadcastMessages, priorityOfferMessages } from './lifecycle-messages.js';

/** State changes a test can observe right after their commit (e.g. to crash before the ack). */
export type CommittedChange = 'priority_notified' | 'broadcast' | 'accepted' | 'declined' | 'cancelled';

export interface RoutingHooks {
  afterCommit?(change: CommittedChange, requestIds: string[]): void | Promise<void>;
}

export interface RequestRouterOptions {
  pool: pg.Pool;
  flags: FlagCache;
  minuteMs: number;
  clock: () => number;
  logger: Logger;
  metrics: RoutingMetrics;
  hooks?: RoutingHooks;
}

/** `wait`: look again in `ms` (nak with that delay); `settled`: nothing left to do (ack). */
export type RouteOutcome = { kind: 'wait'; ms: number } | { kind: 'settled' };

export type RequestRouter = ReturnType<typeof createRequestRouter>;

// A decider that loses a race (another replica, the sweeper, a command) re-reads and decides
// again; more than a few rounds in a row means something is wrong, so hand the message back.
const MAX_ROUNDS = 4;
/** Windows broadcast per sweep transaction. */
const SWEEP_BATCH = 500;

/**
 * Load → decide → act for one request. Every write is conditional on the state it was decided
 * from, so replicas, redeliveries, the sweeper and commands may all look at the same request at
 * once and each change still happens exactly once.
 */
export function createRequestRouter(opts: RequestRouterOptions) {
  const { pool, flags, minuteMs, clock, logger, metrics, hooks } = opts;
  const loader = createRoutingContextLoader(pool);

  async function committed(change: CommittedChange, ids: string[]): Promise<void> {
    if (ids.length > 0) await hooks?.afterCommit?.(change, ids);
  }

  function observeLateness(rows: RequestRow[], via: 'redelivery' | 'sweeper'): void {
    for (const row of rows) {
      const deadline = toState(row).priority_expires_at;
      const firedAt = toState(row).broadcast_at;
      if (deadline !== null && firedAt !== null)
        metrics.lateness.observe({ via }, Math.max(0, firedAt - deadline) / 1000);
    }
  }

  async function broadcast(
    id: string,
    decision: Extract<RoutingDecision, { kind: 'broadcast' }>,
    at: number,
  ): Promise<boolean> {
    const now = new Date(at);
    const row = await inTransaction(pool, async (tx) => {
      const changed = await markBroadcast(tx, id, decision.reason, decision.trigger, now);
      if (changed) await enqueue(tx, broadcastMessages(changed, now));
      return changed;
    });
    if (!row) return false;
    metrics.decisions.inc({ outcome: `broadcast_${decision.reason ?? 'none'}` });
    if (decision.trigger === 'timeout') observeLateness([row], 'redelivery');
    logger.info(
      { request_id: id, fallback_reason: decision.reason, trigger: decision.trigger },
      'request broadcast to every mechanic',
    );
    await committed('broadcast', [id]);
    return true;
  }

  async function offerPriority(id: string, mechanicId: string, expiresAt: number, at: number): Promise<boolean> {
    // The same instant the decision computed the deadline from: expires − notified is the window, exactly.
    const now = new Date(at);
    const row = await inTransaction(pool, async (tx) => {
      const changed = await markPriorityNotified(tx, id, now, new Date(expiresAt));
      if (changed) await enqueue(tx, priorityOfferMessages(changed, now));
      return changed;
    });
    if (!row) return false;
    metrics.decisions.inc({ outcome: 'priority_offered' });
    logger.info({ request_id: id, mechanic_id: mechanicId, expires_at: new Date(expiresAt) }, 'priority window opened');
    await committed('priority_notified', [id]);
    return true;
  }

  /**
   * Broadcasts every window past its deadline, in batches. Concurrent callers share one sweep,
   * plus one more for those who asked while it ran (their window may have come due after it began).
   */
  let current: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  function sweep(via: 'redelivery' | 'sweeper'): Promise<void> {
    if (!current) {
      current = (async () => {
        while ((await sweepDue(SWEEP_BATCH, via)) === SWEEP_BATCH) {
          // a full batch: more are due right now
        }
      })().finally(() => {
        current = null;
      });
      return current;
    }
    if (!next) {
      next = current
        .catch(() => undefined)
        .then(() => {
          next = null;
          return sweep(via);
        });
    }
    return next;
  }

  /** Brings a request one step further and says when to look at it again. */
  async function route(id: string): Promise<RouteOutcome> {
    let swept = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const ctx = await loader.load(id);
      if (!ctx) {
        // Deleted with its customer (ON DELETE CASCADE): nobody is waiting for it any more.
        logger.warn({ request_id: id }, 'created event for an unknown request; dropping it');
        return { kind: 'settled' };
      }
      const request = toState(ctx.row);
      const now = clock();
      const decision = decideRouting({
        request,
        priorityEnabled: flags.enabledFor('customer', request.customer_id),
        mechanic: ctx.mechanic,
        declined: ctx.row.declined,
        now,
        minuteMs,
      });
      switch (decision.kind) {
        case 'done':
          return { kind: 'settled' };
        case 'wait':
          metrics.decisions.inc({ outcome: 'wait' });
          return { kind: 'wait', ms: decision.ms };
        case 'broadcast':
          if (decision.trigger === 'timeout' && !swept) {
            // Windows end in herds: one set-based sweep broadcasts every window due by now, and
            // the redeliveries of the others find their request done. Then look again.
            swept = true;
            await sweep('redelivery');
            break;
          }
          if (await broadcast(id, decision, now)) return { kind: 'settled' };
          break;
        case 'offer_priority':
          try {
            if (await offerPriority(id, decision.mechanicId, decision.expiresAt, now)) {
              return { kind: 'wait', ms: Math.max(1, decision.expiresAt - clock()) };
            }
          } catch (err) {
            // Without the database nothing can be decided: hand the message back and retry.
            if (isDbUnavailable(err)) throw err;
            // Any other failure to notify the preferred mechanic: the customer is never stuck.
            logger.error(
              { err, request_id: id, mechanic_id: decision.mechanicId },
              'priority offer failed; broadcasting',
            );
            if (await broadcast(id, { kind: 'broadcast', reason: 'priority_failed', trigger: 'route' }, clock())) {
              return { kind: 'settled' };
            }
          }
          break;
      }
    }
    throw new Error(`request ${id} kept changing under routing; retrying later`);
  }

  /** Broadcasts up to `limit` windows whose deadline passed; returns how many it broadcast. */
  async function sweepDue(limit: number, via: 'redelivery' | 'sweeper'): Promise<number> {
    const now = new Date(clock());
    const rows = await inTransaction(pool, async (tx) => {
      const due = await broadcastDueWindows(tx, now, limit);
      if (due.length > 0)
        await enqueue(
          tx,
          due.flatMap((row) => broadcastMessages(row, now)),
        );
      return due;
    });
    if (rows.length === 0) return 0;
    metrics.decisions.inc({ outcome: 'broadcast_priority_timeout' }, rows.length);
    observeLateness(rows, via);
    logger.info({ count: rows.length, via }, 'windows past their deadline broadcast');
    await committed(
      'broadcast',
      rows.map((r) => r.id),
    );
    return rows.length;
  }

  return { route, sweep, committed };
}
