import { every } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import type { Directory } from '../adapters/directory.repository.js';
import type { ConnectionHub } from '../connections/hub.js';

/**
 * Re-reads which connected mechanics are approved every `intervalMs`, so an approval or a
 * suspension governs broadcasts within about one interval without a reconnect. One query per
 * interval per replica, however many mechanics are connected.
 */
export function startStatusRefresh(hub: ConnectionHub, directory: Directory, intervalMs: number, logger: Logger) {
  const periodic = every(
    intervalMs,
    async () => {
      const ids = hub.mechanicIds();
      if (ids.length === 0) return;
      try {
        hub.applyApproved(ids, await directory.approvedAmong(ids));
      } catch (err) {
        logger.warn(
          { err: { message: (err as Error).message } },
          'mechanic status refresh failed; keeping the last one',
        );
      }
    },
    { name: 'mechanic status refresh', logger },
  );
  return {
    stop() {
      void periodic.stop();
    },
  };
}
