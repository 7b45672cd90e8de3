import { envPieces, loadConfig, runMain, StartupError, z } from '@dibs/config';
import { createLogger } from '@dibs/logger';
import { describeDbError } from './errors.js';
import { createOrm, ensureDatabase, migrate } from './orm.js';

// `npm run migrate`: creates the database if missing and applies pending migrations.
await runMain('migrate', async () => {
  const cfg = loadConfig(z.object({ DATABASE_URL: envPieces.DATABASE_URL, LOG_LEVEL: envPieces.LOG_LEVEL }));
  const logger = createLogger({ service: 'migrate', level: cfg.LOG_LEVEL });
  try {
    await ensureDatabase(cfg.DATABASE_URL);
  } catch (err) {
    throw new StartupError(describeDbError(err, cfg.DATABASE_URL));
  }
  const orm = await createOrm({ url: cfg.DATABASE_URL, poolMax: 2 });
  try {
    const applied = await migrate(orm, cfg.DATABASE_URL);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
  } finally {
    await orm.close();
  }
});
