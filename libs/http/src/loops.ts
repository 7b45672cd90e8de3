import type { Logger } from '@dibs/logger';
import pRetry from 'p-retry';

export interface KeepRunningOptions {
  /** Names the loop in its log lines. */
  name: string;
  logger: Logger;
  /** The wait after a first failure; each further failure in a row multiplies it by `factor`. */
  retryMs: number;
  /** The longest wait between two failed attempts (default `retryMs`: a fixed delay). */
  maxRetryMs?: number;
  /** Growth of the wait per failure in a row (default 2; irrelevant while `maxRetryMs` = `retryMs`). */
  factor?: number;
  /** The pause after an iteration that ended without an error, before the next one (default 0). */
  idleMs?: number;
  /** Logs the n-th failure in a row only when this says so (default: every one). */
  logFailure?: (failuresInARow: number) => boolean;
}

export interface BackgroundLoop {
  /** Aborted once `stop()` was called: an iteration checks it before starting long work. */
  readonly signal: AbortSignal;
  /**
   * Starts no further iteration and cancels a pending wait, then waits for the iteration in
   * hand (the caller ends what it blocks on: closes its iterator, its connection).
   */
  stop(): Promise<void>;
}

/**
 * Runs `iteration` again and again until stopped: after a failure it waits with exponential
 * backoff (p-retry: `retryMs`, × `factor`, at most `maxRetryMs`; back to `retryMs` after a
 * success), after an iteration that simply ended, `idleMs`. Never ends on its own, whatever
 * an iteration throws.
 */
export function keepRunning(
  iteration: (signal: AbortSignal) => Promise<void>,
  opts: KeepRunningOptions,
): BackgroundLoop {
  const { name, logger, retryMs, idleMs = 0 } = opts;
  const controller = new AbortController();
  const { signal } = controller;
  const logFailure = opts.logFailure ?? (() => true);

  async function attempt(): Promise<void> {
    try {
      await iteration(signal);
    } catch (err) {
      // p-retry gives up on a TypeError (a bug, to it): a background loop never does.
      if (err instanceof TypeError) throw new Error(err.message, { cause: err });
      throw err;
    }
  }

  async function run(): Promise<void> {
    while (!signal.aborted) {
      try {
        await pRetry(attempt, {
          retries: Number.POSITIVE_INFINITY,
          minTimeout: retryMs,
          maxTimeout: opts.maxRetryMs ?? retryMs,
          factor: opts.factor ?? 2,
          signal,
          unref: true,
          onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
            if (signal.aborted || !logFailure(attemptNumber)) return;
            logger.warn(
              { loop: name, err: { message: error.message }, failures: attemptNumber, retry_in_ms: retryDelay },
              `${name} failed; retrying`,
            );
          },
        });
      } catch {
        // Only an abort (stop) ends pRetry with infinite retries.
        break;
      }
      if (idleMs > 0 && !signal.aborted) await sleep(idleMs, signal);
    }
  }

  const loop = run();
  return {
    signal,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

export interface Periodic {
  /** Clears the timer and waits for a tick in progress. */
  stop(): Promise<void>;
}

/**
 * Calls `tick` every `intervalMs` on an unref'd timer. A tick that returns a promise holds the
 * next ones off until it settles (they are skipped, not queued); a rejection is logged, never
 * thrown.
 */
export function every(
  intervalMs: number,
  tick: () => void | Promise<void>,
  opts: { name: string; logger?: Logger },
): Periodic {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    let result: void | Promise<void>;
    try {
      result = tick();
    } catch (err) {
      opts.logger?.warn({ loop: opts.name, err: { message: (err as Error).message } }, `${opts.name} failed`);
      return;
    }
    if (!result) return;
    running = result
      .catch((err: unknown) =>
        opts.logger?.warn({ loop: opts.name, err: { message: (err as Error).message } }, `${opts.name} failed`),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
