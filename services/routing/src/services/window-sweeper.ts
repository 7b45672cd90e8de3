import type { Logger } from '@dibs/logger';
import type { RequestRouter } from './request-router.js';

export interface WindowSweeperOptions {
  router: RequestRouter;
  logger: Logger;
  /** The earliest deadline of an open window (epoch ms), null when none is open. */
  nextDeadline: () => Promise<number | null>;
  clock: () => number;
  /**
   * The longest it sleeps between looks, whatever it knows: windows opened by other replicas (or
   * by one that died) fire within this of their deadline even if nobody told this replica.
   */
  maxWaitMs: number;
  /** The shortest pause between two sweeps: when windows end every few ms, one sweep fires a batch. */
  minGapMs?: number;
}

/**
 * What ends priority windows: it sleeps until the earliest open deadline (read from the
 * open-windows index, and told of every window this replica opens), then broadcasts, in one
 * set-based conditional UPDATE, every window whose deadline has passed. Every replica runs one;
 * `FOR UPDATE SKIP LOCKED` shares the work and the conditional UPDATE fires each window once,
 * whichever replica, redelivery or command gets there first. Nothing about a window lives in
 * memory: a replica that dies loses nothing, the others fire its windows.
 */
export function createWindowSweeper(opts: WindowSweeperOptions) {
  const { router, logger, nextDeadline, clock, maxWaitMs } = opts;
  const minGapMs = opts.minGapMs ?? 20;
  let running = false;
  let loop: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  /** When the current sleep ends (epoch ms, by `clock`). */
  let wakeAt = Number.POSITIVE_INFINITY;

  function sleepUntil(at: number): Promise<void> {
    return new Promise<void>((resolve) => {
      wakeAt = at;
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        wakeAt = Number.POSITIVE_INFINITY;
        resolve();
      };
      timer = setTimeout(() => wake?.(), Math.max(0, at - clock()));
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    let lastSweep = 0;
    while (running) {
      let next: number;
      try {
        const deadline = await nextDeadline();
        const now = clock();
        if (deadline !== null && deadline <= now) {
          await router.sweep('sweeper');
          lastSweep = clock();
          // More may be due by now, or soon: look again after the pause between sweeps.
          next = lastSweep;
        } else {
          next = Math.min(deadline ?? Number.POSITIVE_INFINITY, now + maxWaitMs);
        }
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          logger.warn({ err: { message: (err as Error).message }, failures }, 'window sweep failed; retrying');
        }
        next = clock() + maxWaitMs;
      }
      if (!running) break;
      await sleepUntil(Math.max(next, lastSweep + minGapMs));
    }
  }

  return {
    start(): void {
      running = true;
      loop = run();
    },
    /** A window this replica opened ends at `deadline`: wake for it if that is sooner than planned. */
    expect(deadline: number): void {
      if (!wake || deadline >= wakeAt) return;
      clearTimeout(timer);
      wakeAt = deadline;
      timer = setTimeout(() => wake?.(), Math.max(0, deadline - clock()));
    },
    async stop(): Promise<void> {
      running = false;
      wake?.();
      await loop;
    },
  };
}
