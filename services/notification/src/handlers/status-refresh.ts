import type { Logger } from '@dibs/logger';
import type { Directory } from '../adapters/directory.repository.js';
import type { ConnectionHub } from '../connections/hub.js';

/**
 * Re-reads which connected mechanics are approved every `intervalMs`, so an approval or a
 * suspension governs broadcasts within about one interval without a reconnect. One query per
 * interval per replica, however many mechanics are connected.
 */
export function startStatusRefresh(hub: ConnectionHub, directory: Directory, intervalMs: number, logger: Logger) {
  let running = false;
  const timer = setInterval(() => {
    const ids = hub.mechanicIds();
    if (running || ids.length === 0) return;
    running = true;
    directory
      .approvedAmong(ids)
      .then((approved) => hub.applyApproved(ids, approved))
      .catch((err) =>
        logger.warn(
          { err: { message: (err as Error).message } },
          'mechanic status refresh failed; keeping the last one',
        ),
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
