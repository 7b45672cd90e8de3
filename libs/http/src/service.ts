import type { Logger } from '@dibs/logger';
import closeWithGrace from 'close-with-grace';

/**
 * Frees everything `close` owns on SIGINT/SIGTERM or a fatal error, within `delayMs`
 * (long enough to drain; Kubernetes' grace period must be longer).
 */
export function closeOnSignals(logger: Logger, close: () => Promise<void>, delayMs = 10_000): void {
  closeWithGrace({ delay: delayMs, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    await close();
  });
}
