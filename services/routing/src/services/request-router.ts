import type { SessionRequest } from '@dibs/contracts';
import { enqueue, type InTransaction, isDbUnavailable, type OutboxEntry, pgCode, type Sql } from '@dibs/db';
import type { Logger } from '@dibs/logger';
import { decideRouting } from '../domain/routing-decision.js';
import type { BroadcastTrigger } from '../domain/rules/broadcast.js';
import { createBatcher } from '../infra/batcher.js';
import type { FlagCache } from '../infra/flag-cache.js';
import { observeLateness, type RoutingMetrics } from '../metrics.js';
import { createRoutingContextLoader } from '../repositories/routing-context.loader.js';
import {
  type BroadcastItem,
  lockRequests,
  markBroadcast,
  type OfferItem,
  openPriorityWindows,
  type RequestRow,
  toState,
} from '../repositories/session-requests.repository.js';
import type { AvailabilityJudge } from './availability-judge.js';
import { createDueWindowSweep } from './due-window-sweep.js';
import { broadcastMessages, priorityOfferMessages } from './lifecycle-messages.js';
import { createSequenceStepper } from './sequence-stepper.js';

/** State changes a test can observe right after their commit (e.g. to crash before the ack). */
export type CommittedChange = 'priority_notified' | 'broadcast' | 'accepted' | 'declined' | 'cancelled';

export interface RoutingHooks {
  afterCommit?(change: CommittedChange, requestIds: string[]): void | Promise<void>;
}

export interface RequestRouterOptions {
  db: Sql;
  inTransaction: InTransaction;
  /**
   * The outbox fast path for what commits outside `inTransaction`: the window-opening statement
   * writes its messages and commits on its own, and hands them here once it has.
   */
  afterCommit: (entries: OutboxEntry[]) => void;
  flags: FlagCache;
  /** Who of a request's mechanics is available now (CONTRACT §6). */
  judge: AvailabilityJudge;
  minuteMs: number;
  clock: () => number;
  logger: Logger;
  metrics: RoutingMetrics;
  hooks?: RoutingHooks;
  /** Told the deadline of every window this replica opens (the sweeper wakes for it). */
  onWindowOpened?: (deadline: number) => void;
}

/**
 * What became of a request: `window_open` (a priority window is open until `deadline`; the
 * window sweeper fires it from the database), or `settled` (offered to everyone, accepted,
 * cancelled). Either way the `created` message is done with.
 */
export type RouteOutcome = { kind: 'window_open'; deadline: number } | { kind: 'settled' };

export type RequestRouter = ReturnType<typeof createRequestRouter>;

// A decider that loses a race (another replica, the sweeper, a command) re-reads and decides
// again; more than a few rounds in a row means something is wrong, so hand the message back.
const MAX_ROUNDS = 4;

/** Errors worth retrying as they are (database down, deadlock, serialization failure). */
export function isTransient(err: unknown): boolean {
  return isDbUnavailable(err) || ['40P01', '40001', '55P03'].includes(pgCode(err) ?? '');
}

/** The first occurrence of each id gets the changed row; a duplicate in the same batch gets null. */
function byItem<I extends { id: string }>(items: I[], rows: RequestRow[]): (RequestRow | null)[] {
  const left = new Map(rows.map((r) => [r.id, r]));
  return items.map((i) => {
    const row = left.get(i.id) ?? null;
    left.delete(i.id);
    return row;
  });
}

/**
 * Load → decide → act for one request. Every write is conditional on the state it was decided
 * from, so replicas, redeliveries, the sweeper and commands may all look at the same request at
 * once and each change still happens exactly once. Reads and writes of concurrent requests are
 * batched (one query, one commit for many).
 */
export function createRequestRouter(opts: RequestRouterOptions) {
  const { db, inTransaction, afterCommit, flags, judge, minuteMs, clock, logger, metrics, hooks, onWindowOpened } =
    opts;
  const load = createRoutingContextLoader(db);
  const sequences = createSequenceStepper({
    inTransaction,
    judge,
    flags,
    minuteMs,
    clock,
    logger,
    metrics,
    committed,
    ...(onWindowOpened ? { onWindowOpened } : {}),
  });
  const { sweep } = createDueWindowSweep({ db, inTransaction, clock, logger, metrics, committed, sequences });
  // The first steps of many sequences at once (a burst of bookings): one transaction for a batch.
  const stepSequence = createBatcher(async (ids: string[]) => {
    const outcomes = await sequences.step([...new Set(ids)]);
    return ids.map((id): RouteOutcome => outcomes.get(id) ?? { kind: 'settled' });
  }, 500);

  async function committed(change: CommittedChange, ids: string[]): Promise<void> {
    if (ids.length > 0) await hooks?.afterCommit?.(change, ids);
  }

  const offer = createBatcher(async (items: OfferItem[]) => {
    // A request named twice in one batch (a redelivery racing its first delivery) is offered once.
    const first = new Map<string, OfferItem>();
    for (const i of items) if (!first.has(i.id)) first.set(i.id, i);
    const opened = await openPriorityWindows(db, [...first.values()]);
    const openedItems = [...first.values()].filter((i) => opened.has(i.id));
    afterCommit(openedItems.flatMap((i) => i.messages));
    for (const i of openedItems) {
      onWindowOpened?.(i.expiresAt.getTime());
      metrics.decisions.inc({ outcome: 'priority_offered' });
      logger.info(
        { request_id: i.id, mechanic_id: i.mechanicId, expires_at: i.expiresAt.toISOString() },
        'priority window opened',
      );
    }
    await committed('priority_notified', [...opened]);
    return items.map((i) => first.get(i.id) === i && opened.has(i.id));
  });

  const broadcasters = new Map<BroadcastTrigger, (item: BroadcastItem) => Promise<RequestRow | null>>();
  function broadcast(trigger: BroadcastTrigger, item: BroadcastItem): Promise<RequestRow | null> {
    let run = broadcasters.get(trigger);
    if (!run) {
      run = createBatcher(async (items: BroadcastItem[]) => {
        const rows = await inTransaction(async (tx) => {
          await lockRequests(
            tx,
            items.map((i) => i.id),
          );
          const changed = await markBroadcast(tx, items, trigger);
          await enqueue(
            tx,
            changed.flatMap((row) => broadcastMessages(row, new Date(row.broadcast_at as Date))),
          );
          return changed;
        });
        for (const row of rows) {
          metrics.decisions.inc({ outcome: `broadcast_${row.fallback_reason ?? 'none'}` });
          logger.info(
            { request_id: row.id, fallback_reason: row.fallback_reason, trigger },
            'request broadcast to every mechanic',
          );
        }
        if (trigger === 'timeout') observeLateness(metrics, rows, 'redelivery');
        await committed(
          'broadcast',
          rows.map((r) => r.id),
        );
        return byItem(items, rows);
      });
      broadcasters.set(trigger, run);
    }
    return run(item);
  }

  /** Opens the preferred mechanic's window decided from `row`; false when its guards say the view was stale. */
  function offerWindow(
    row: RequestRow,
    mechanicId: string,
    now: number,
    expiresAt: number,
    availabilityChecked: boolean,
  ): Promise<boolean> {
    // The deadline and the notification time come from the same instant: expires − notified is
    // the window, exactly. The messages describe the row as the guarded write leaves it.
    const notifiedAt = new Date(now);
    const opened: RequestRow = { ...row, priority_notified_at: notifiedAt, priority_expires_at: new Date(expiresAt) };
    return offer({
      id: row.id,
      mechanicId,
      availabilityChecked,
      notifiedAt,
      expiresAt: new Date(expiresAt),
      messages: priorityOfferMessages(opened, notifiedAt),
    });
  }

  /**
   * The common case in one round trip. A `created` event delivered for the first time describes
   * the request as stored (nothing but routing changes it, apart from a cancel or a decline, which
   * the write's guards catch), so a priority offer can be decided from it without reading the
   * row, assuming the preferred mechanic approved and available whatever the time (no schedule,
   * not away, presence not required); the guarded write verifies every assumption.
   * Anything else, or a guard that fails, takes the usual read → decide → write path.
   */
  async function offerFromEvent(created: SessionRequest): Promise<RouteOutcome | null> {
    const row: RequestRow = { ...created, declined: [] };
    const request = toState(row);
    const now = clock();
    const preferred = request.preferred_mechanic_id;
    const decision = decideRouting({
      request,
      priorityEnabled: flags.enabledFor('customer', request.customer_id),
      mechanic: preferred ? { id: preferred, status: 'approved' } : null,
      mechanics: new Map(),
      available: new Map(preferred ? [[preferred, true]] : []),
      declined: [],
      now,
      minuteMs,
    });
    if (decision.kind !== 'offer_priority') return null;
    try {
      if (await offerWindow(row, decision.mechanicId, now, decision.expiresAt, false)) {
        return { kind: 'window_open', deadline: decision.expiresAt };
      }
    } catch (err) {
      if (isTransient(err)) throw err;
      // Any other failure: the usual path decides again from the row (and broadcasts if it fails too).
      logger.warn({ err, request_id: row.id }, 'priority offer from the event failed; deciding from the row');
    }
    return null;
  }

  /**
   * Brings a request one step further and says when to look at it again. `created` is the
   * request as its `created` event carried it, given on the event's first delivery only.
   */
  async function route(id: string, created?: SessionRequest): Promise<RouteOutcome> {
    if (created) {
      const outcome = await offerFromEvent(created);
      if (outcome) return outcome;
    }
    let swept = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const ctx = await load(id);
      if (!ctx) {
        // Deleted with its customer (ON DELETE CASCADE): nobody is waiting for it any more.
        logger.warn({ request_id: id }, 'created event for an unknown request; dropping it');
        return { kind: 'settled' };
      }
      const request = toState(ctx.row);
      if (request.routing_type === 'priority_sequence' && request.preferred_workshop_id === null) {
        // Every step of a sequence is decided and written under its row lock.
        return stepSequence(id);
      }
      const now = clock();
      // Availability matters only to a priority offer still to be made.
      const candidate =
        request.routing_type === 'priority_broadcast' && request.priority_notified_at === null && ctx.mechanic
          ? ctx.mechanic.id
          : null;
      const { available } = candidate ? await judge(db, [candidate], now) : { available: new Map<string, boolean>() };
      const decision = decideRouting({
        request,
        priorityEnabled: flags.enabledFor('customer', request.customer_id),
        mechanic: ctx.mechanic,
        mechanics: new Map(),
        available,
        declined: ctx.row.declined,
        now,
        minuteMs,
      });
      switch (decision.kind) {
        case 'done':
        case 'sequence':
          return { kind: 'settled' };
        case 'wait':
          // A window already open (a redelivery after a crash): the sweeper fires it.
          metrics.decisions.inc({ outcome: 'wait' });
          return { kind: 'window_open', deadline: decision.deadline };
        case 'broadcast':
          if (decision.trigger === 'timeout' && !swept) {
            // A window that ended before this (re)delivery: one set-based sweep broadcasts it with
            // every other window due by now. Then look again.
            swept = true;
            await sweep('redelivery');
            break;
          }
          if (await broadcast(decision.trigger, { id, reason: decision.reason, at: new Date(now) })) {
            return { kind: 'settled' };
          }
          break;
        case 'offer_priority':
          try {
            if (await offerWindow(ctx.row, decision.mechanicId, now, decision.expiresAt, true)) {
              return { kind: 'window_open', deadline: decision.expiresAt };
            }
          } catch (err) {
            // Without the database nothing can be decided: hand the message back and retry.
            if (isTransient(err)) throw err;
            // Any other failure to notify the preferred mechanic: the customer is never stuck.
            logger.error(
              { err, request_id: id, mechanic_id: decision.mechanicId },
              'priority offer failed; broadcasting',
            );
            if (await broadcast('route', { id, reason: 'priority_failed', at: new Date(clock()) })) {
              return { kind: 'settled' };
            }
          }
          break;
      }
    }
    throw new Error(`request ${id} kept changing under routing; retrying later`);
  }

  return { route, sweep, committed, broadcast, sequences };
}
