import { loadConfig, runMain } from '@dibs/config';
import { createOrm, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildRouting } from './app.js';
import { RoutingConfigSchema, routingOrmOptions } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('routing', async () => {
  const config = loadConfig(RoutingConfigSchema);
  const logger = createLogger({ service: 'routing', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'routing');
  // Routing's statements are set-based SQL (conditional UPDATEs, `= any($1::uuid[])`, `FOR UPDATE
  // SKIP LOCKED`), run through the ORM's connection with parameters bound (docs/decisions/014-data-access.md).
  const orm = await createOrm(routingOrmOptions(config, logger));
  const nc = await openNats(config, { name: 'routing', logger });

  const routing = await buildRouting({ config, logger, nc, orm, ownsConnections: true });
  // Closing routing stops its work, then drains NATS and closes the ORM (its plugins' onClose).
  closeOnSignals(logger, () => routing.close());
  const address = await routing.app.listen({ host: config.HOST, port: config.ROUTING_PORT });
  logger.info({ address }, 'routing probes listening');
});
