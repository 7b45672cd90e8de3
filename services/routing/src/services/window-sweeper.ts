import type { Logger } from '@dibs/logger';
import type { RequestRouter } from './request-router.js';

export interface WindowSweeperOptions {
  router: RequestRouter;
  logger: Logger;
  intervalMs: number;
}

/**
 * The safety net under nak-delay: every `intervalMs`, broadcast any window whose deadline passed
 * and that nobody broadcast yet. It covers a redelivery that comes late or not at all (a replica
 * killed before its nak leaves the message to `ack_wait`; NATS down at the deadline; a backlog)
 * and uses the same conditional UPDATE as the redelivery path, so whichever fires first
 * broadcasts and the other finds nothing to do.
 */
export function createWindowSweeper({ router, logger, intervalMs }: WindowSweeperOptions) {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      try {
        await router.sweep('sweeper');
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
