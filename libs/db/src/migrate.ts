import { envPieces, loadConfig, runMain, z } from '@dibs/config';
import { createLogger } from '@dibs/logger';
import { prepareDatabase } from './orm.js';

// `npm run migrate`: creates the database if missing and applies every service's pending
// migrations (each service applies its own at start-up anyway; this is for a release Job).
await runMain('migrate', async () => {
  const cfg = loadConfig(z.object({ DATABASE_URL: envPieces.DATABASE_URL, LOG_LEVEL: envPieces.LOG_LEVEL }));
  const logger = createLogger({ service: 'migrate', level: cfg.LOG_LEVEL });
  const applied = await prepareDatabase(cfg.DATABASE_URL, 'all');
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
});
