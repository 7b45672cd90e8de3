import { resolveJwtSecret, runMain } from '@dibs/config';
import { createOrm, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildIntake, createIntakePool } from './app.js';
import { loadIntakeConfig } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('intake', async () => {
  const config = loadIntakeConfig();
  const jwtSecret = resolveJwtSecret(config);
  const logger = createLogger({ service: 'intake', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'intake');
  const orm = await createOrm({ url: config.DATABASE_URL, logger, poolMax: config.INTAKE_DB_POOL });
  // The booking path's SQL pool (docs/decisions/011-capacity.md); the ORM serves admin and favorites.
  const db = createIntakePool(config, logger);
  const nc = await openNats(config, { name: 'dibs-intake', logger });

  const intake = await buildIntake({ config, jwtSecret, orm, nc, db, logger });
  closeOnSignals(logger, async () => {
    await intake.close();
    await nc.drain();
    await db.end();
    await orm.close();
  });
  await intake.app.listen({ port: config.INTAKE_PORT, host: config.HOST });
});
