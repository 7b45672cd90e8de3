import { resolveJwtSecret, runMain } from '@dibs/config';
import { createOrm, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildIntake } from './app.js';
import { loadIntakeConfig } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('intake', async () => {
  const config = loadIntakeConfig();
  const jwtSecret = resolveJwtSecret(config);
  const logger = createLogger({ service: 'intake', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'intake');
  // Intake's one pool, the booking path's included (docs/decisions/011-capacity.md): a booking
  // waiting more than 5 s for a connection fails (503) instead of queueing on.
  const orm = await createOrm({
    url: config.DATABASE_URL,
    logger,
    poolMax: config.INTAKE_DB_POOL,
    connectionTimeoutMillis: 5000,
  });
  const nc = await openNats(config, { name: 'dibs-intake', logger });

  const intake = await buildIntake({ config, jwtSecret, orm, nc, ownsConnections: true, logger });
  // Closing intake stops the server and the relay, then drains NATS and closes the ORM (its plugins' onClose).
  closeOnSignals(logger, () => intake.close());
  await intake.app.listen({ port: config.INTAKE_PORT, host: config.HOST });
});
