import { enqueue, type InTransaction, type UnitOfWork } from '@dibs/db';
import type { Logger } from '@dibs/logger';
import { openOffer } from '../domain/request-state.js';
import { decideRouting } from '../domain/routing-decision.js';
import type { SequenceStep } from '../domain/rules/sequence.js';
import type { FlagCache } from '../infra/flag-cache.js';
import type { RoutingMetrics } from '../metrics.js';
import { lockDueSequences, writeSequenceSteps } from '../repositories/sequence.repository.js';
import { loadRoutingContexts, lockRequests, toState } from '../repositories/session-requests.repository.js';
import type { AvailabilityJudge } from './availability-judge.js';
import { sequenceStepMessages } from './lifecycle-messages.js';
import type { CommittedChange, RouteOutcome } from './request-router.js';

/** Sequences stepped per sweep transaction. */
const SWEEP_BATCH = 500;

/** What one call stepped, for the caller to report once its transaction has committed. */
export interface Stepped {
  outcomes: Map<string, RouteOutcome>;
  steps: { id: string; step: SequenceStep; lateMs: number | null }[];
}

export interface SequenceStepperOptions {
  inTransaction: InTransaction;
  judge: AvailabilityJudge;
  flags: FlagCache;
  minuteMs: number;
  clock: () => number;
  logger: Logger;
  metrics: RoutingMetrics;
  committed: (change: CommittedChange, ids: string[]) => Promise<void>;
  onWindowOpened?: (deadline: number) => void;
}

/**
 * Moves sequences (`priority_sequence`, CONTRACT §6) through their tiers. Every step is decided by
 * the routing decision from the stored request, read afresh under its row lock, and written in
 * the same transaction with its messages: a tier ends, and the next opens, exactly once, whichever
 * of the created consumer, the sweeper of any replica or a decline gets there first.
 */
export function createSequenceStepper(opts: SequenceStepperOptions) {
  const { inTransaction, judge, flags, minuteMs, clock, logger, metrics, committed, onWindowOpened } = opts;

  /** Decides and writes the next step of each of `ids`, whose rows the caller has locked in `tx`. */
  async function stepLocked(tx: UnitOfWork, ids: string[], now: number): Promise<Stepped> {
    const contexts = [...(await loadRoutingContexts(tx, ids)).values()].filter(
      (c) => c.row.routing_type === 'priority_sequence',
    );
    const planned = [...new Set(contexts.flatMap((c) => (c.row.priority_tiers ?? []).map((t) => t.mechanic_id)))];
    const { mechanics, available } =
      planned.length > 0 ? await judge(tx, planned, now) : { mechanics: new Map(), available: new Map() };
    const outcomes = new Map<string, RouteOutcome>();
    const steps: Stepped['steps'] = [];
    for (const { row, mechanic } of contexts) {
      const request = toState(row);
      const decision = decideRouting({
        request,
        priorityEnabled: flags.enabledFor('customer', request.customer_id),
        mechanic,
        mechanics,
        available,
        declined: row.declined,
        now,
        minuteMs,
      });
      if (decision.kind === 'sequence') {
        const open = openOffer(request);
        const lateMs = decision.step.close?.outcome === 'timeout' && open ? now - (open.expires_at as number) : null;
        steps.push({ id: row.id, step: decision.step, lateMs });
        const opened = decision.step.open;
        outcomes.set(row.id, opened ? { kind: 'window_open', deadline: opened.expiresAt } : { kind: 'settled' });
      } else if (decision.kind === 'wait') {
        outcomes.set(row.id, { kind: 'window_open', deadline: decision.deadline });
      } else {
        outcomes.set(row.id, { kind: 'settled' });
      }
    }
    if (steps.length > 0) {
      const at = new Date(now);
      await writeSequenceSteps(tx, steps, at);
      const after = await loadRoutingContexts(
        tx,
        steps.map((s) => s.id),
      );
      await enqueue(
        tx,
        steps.flatMap((s) => {
          const ctx = after.get(s.id);
          return ctx ? sequenceStepMessages(ctx.row, s.step, at) : [];
        }),
      );
    }
    return { outcomes, steps };
  }

  /** Reports what a committed `stepLocked` did: metrics, logs, the sweeper's next wake-up, hooks. */
  async function report({ steps }: Stepped, via: 'route' | 'sweeper' | 'decline'): Promise<void> {
    const opened: string[] = [];
    const broadcast: string[] = [];
    for (const { id, step, lateMs } of steps) {
      if (lateMs !== null) metrics.tierLateness.observe({ via }, Math.max(0, lateMs) / 1000);
      for (const s of step.skip) metrics.decisions.inc({ outcome: `tier_${s.outcome}` });
      if (step.open) {
        opened.push(id);
        onWindowOpened?.(step.open.expiresAt);
        metrics.decisions.inc({ outcome: 'tier_offered' });
        logger.info(
          { request_id: id, tier: step.open.tier, mechanic_id: step.open.mechanicId, skipped: step.skip.length },
          'sequence tier opened',
        );
      } else {
        broadcast.push(id);
        metrics.decisions.inc({ outcome: `broadcast_${step.broadcast ?? 'none'}` });
        logger.info({ request_id: id, fallback_reason: step.broadcast }, 'sequence broadcast to every mechanic');
      }
    }
    await committed('priority_notified', opened);
    await committed('broadcast', broadcast);
  }

  /** Steps sequences that nothing holds right now (a `created` message, a redelivery, an accept routing first). */
  async function step(ids: string[]): Promise<Map<string, RouteOutcome>> {
    const stepped = await inTransaction(async (tx) => {
      await lockRequests(tx, ids);
      return stepLocked(tx, ids, clock());
    });
    await report(stepped, 'route');
    return stepped.outcomes;
  }

  /** Steps every sequence whose open tier's deadline has passed; returns how many it stepped. */
  async function sweepDue(): Promise<number> {
    const now = clock();
    const stepped = await inTransaction(async (tx) => {
      const ids = await lockDueSequences(tx, new Date(now), SWEEP_BATCH);
      return ids.length > 0 ? stepLocked(tx, ids, now) : { outcomes: new Map(), steps: [] };
    });
    await report(stepped, 'sweeper');
    return stepped.outcomes.size;
  }

  return { step, stepLocked, report, sweepDue, batch: SWEEP_BATCH };
}
export type SequenceStepper = ReturnType<typeof createSequenceStepper>;
