import { runMain, StartupError } from '@dibs/config';
import { prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { buildAnalytics } from './app.js';
import { loadAnalyticsConfig } from './config.js';

await runMain('analytics', async () => {
  const config = loadAnalyticsConfig();
  const logger = createLogger({ service: 'analytics', level: config.LOG_LEVEL });
  await prepareDatabase(config.DATABASE_URL);
  const analytics = await buildAnalytics({ config, logger }).catch((err: Error) => {
    throw new StartupError(`cannot start: ${err.message}`);
  });
  closeOnSignals(logger, () => analytics.close());
  await analytics.start();
  await analytics.app.listen({ host: config.HOST, port: config.ANALYTICS_PORT });
});
