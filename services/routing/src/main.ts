import { loadConfig, runMain } from '@dibs/config';
import { createPool, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { openNats } from '@dibs/nats';
import { buildRouting } from './app.js';
import { RoutingConfigSchema } from './config.js';

// Process only: config → logger → connect → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('routing', async () => {
  const config = loadConfig(RoutingConfigSchema);
  const logger = createLogger({ service: 'routing', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL, 'routing');
  // Routing speaks raw SQL only (conditional UPDATEs, `= any($1::uuid[])`, `FOR UPDATE SKIP
  // LOCKED`), so it talks to `pg` directly instead of through the ORM.
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.ROUTING_DB_POOL,
    logger,
    connectionTimeoutMillis: 5000,
  });
  const nc = await openNats(config, { name: 'routing', logger });

  const routing = await buildRouting({ config, logger, nc, pool });
  closeOnSignals(logger, async () => {
    await routing.close();
    await nc.drain().catch(() => undefined);
    await pool.end();
  });
  const address = await routing.app.listen({ host: config.HOST, port: config.ROUTING_PORT });
  logger.info({ address }, 'routing probes listening');
});
