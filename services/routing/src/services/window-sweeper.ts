import type { Logger } from '@dibs/logger';
import type { RequestRouter } from './request-router.js';

export interface WindowSweeperOptions {
  router: RequestRouter;
  logger: Logger;
  intervalMs: number;
  /** Windows broadcast per transaction. */
  batchSize?: number;
}

/**
 * The safety net under nak-delay: every `intervalMs`, broadcast any window whose deadline passed
 * and that nobody broadcast yet. It covers a redelivery that comes late (a NATS restart resets the
 * server's redelivery timer to `ack_wait`; a backlog of messages delays it) and uses the same
 * conditional UPDATE as the redelivery path, so whichever fires first broadcasts and the other
 * finds nothing to do.
 */
export function createWindowSweeper({ router, logger, intervalMs, batchSize = 500 }: WindowSweeperOptions) {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      try {
        while (running && (await router.sweepDue(batchSize)) === batchSize) {
          // a full batch: more may be due right now
        }
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          logger.warn({ err: { message: (err as Error).message }, failures }, 'window sweep failed; retrying');
        }
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  }

  return {
    start(): void {
      running = true;
      loop = run();
    },
    async stop(): Promise<void> {
      running = false;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
