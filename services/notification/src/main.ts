import { resolveJwtSecret, runMain, StartupError } from '@dibs/config';
import { createOrm, describeDbError, prepareDatabase, sqlOf } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('notification', async () => {
  const config = loadGatewayConfig();
  const jwtSecret = resolveJwtSecret(config);
  const logger = createLogger({ service: 'notification', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'notification');
  const orm = await createOrm({ url: config.DATABASE_URL, logger, poolMax: config.GATEWAY_DB_POOL });
  await sqlOf(orm.em)
    .query('select 1')
    .catch((err: unknown) => {
      throw new StartupError(describeDbError(err, config.DATABASE_URL));
    });
  const nc = await openNats(config, { name: 'dibs-notification', logger });

  const gateway = await buildGateway({ config, jwtSecret, nc, orm, ownsConnections: true, logger });
  // Closing the gateway drains its clients, stops its work, then drains NATS and closes the ORM
  // (its plugins' onClose).
  closeOnSignals(logger, () => gateway.close(), config.GATEWAY_DRAIN_MS + 5000);
  await gateway.app.listen({ port: config.GATEWAY_PORT, host: config.HOST });
  logger.info({ port: config.GATEWAY_PORT, instance_id: gateway.instanceId }, 'notification gateway listening');
});
