import { enqueue, type InTransaction, type Sql } from '@dibs/db';
import type { Logger } from '@dibs/logger';
import { observeLateness, type RoutingMetrics } from '../metrics.js';
import { anyTierDue } from '../repositories/sequence.repository.js';
import { anyWindowDue, broadcastDueWindows } from '../repositories/session-requests.repository.js';
import { broadcastMessages } from './lifecycle-messages.js';
import type { CommittedChange } from './request-router.js';
import type { SequenceStepper } from './sequence-stepper.js';

/** Windows broadcast per sweep transaction. */
const SWEEP_BATCH = 500;

export interface DueWindowSweepOptions {
  db: Sql;
  inTransaction: InTransaction;
  clock: () => number;
  logger: Logger;
  metrics: RoutingMetrics;
  committed: (change: CommittedChange, ids: string[]) => Promise<void>;
  /** Ends sequences' tiers past their deadline the same way (rules/sequence.ts). */
  sequences: Pick<SequenceStepper, 'sweepDue' | 'batch'>;
}

/**
 * Broadcasts, set-based, every window whose deadline has passed (`priority_timeout`), and moves
 * every sequence whose tier's deadline has passed to its next tier (or broadcasts it). Called by
 * the window sweeper at each deadline (windows end in herds: one transaction fires all that are
 * due) and by a late delivery that finds its window over.
 */
export function createDueWindowSweep({
  db,
  inTransaction,
  clock,
  logger,
  metrics,
  committed,
  sequences,
}: DueWindowSweepOptions) {
  async function sweepDue(via: 'redelivery' | 'sweeper'): Promise<number> {
    const now = new Date(clock());
    if (!(await anyWindowDue(db, now))) return 0;
    const rows = await inTransaction(async (tx) => {
      const due = await broadcastDueWindows(tx, now, SWEEP_BATCH);
      await enqueue(
        tx,
        due.flatMap((row) => broadcastMessages(row, now)),
      );
      return due;
    });
    if (rows.length === 0) return 0;
    metrics.decisions.inc({ outcome: 'broadcast_priority_timeout' }, rows.length);
    observeLateness(metrics, rows, via);
    logger.info({ count: rows.length, via }, 'windows past their deadline broadcast');
    await committed(
      'broadcast',
      rows.map((r) => r.id),
    );
    return rows.length;
  }

  // Concurrent callers share one sweep, plus one more for those who asked while it ran (their
  // window may have come due after it began).
  let current: Promise<void> | null = null;
  let next: Promise<void> | null = null;

  function sweep(via: 'redelivery' | 'sweeper'): Promise<void> {
    if (!current) {
      current = (async () => {
        while ((await sweepDue(via)) === SWEEP_BATCH) {
          // a full batch: more are due right now
        }
        if (!(await anyTierDue(db, new Date(clock())))) return;
        while ((await sequences.sweepDue()) === sequences.batch) {
          // a full batch of tiers: more are due right now
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

  return { sweep };
}
