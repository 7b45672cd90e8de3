import { runMain, StartupError } from '@dibs/config';
import { createOrm, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildAnalytics } from './app.js';
import { loadAnalyticsConfig } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('analytics', async () => {
  const config = loadAnalyticsConfig();
  const logger = createLogger({ service: 'analytics', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'analytics');
  const orm = await createOrm({ url: config.DATABASE_URL, logger, poolMax: 5 });
  const nc = await openNats(config, { name: 'dibs-analytics', logger });

  const analytics = await buildAnalytics({ config, logger, nc, orm, ownsConnections: true }).catch((err: Error) => {
    throw new StartupError(`cannot start: ${err.message}`);
  });
  // Closing analytics stops its work, then drains NATS and closes the ORM (its plugins' onClose).
  closeOnSignals(logger, () => analytics.close());
  await analytics.app.listen({ host: config.HOST, port: config.ANALYTICS_PORT });
});
