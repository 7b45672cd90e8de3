import { loadConfig, runMain } from '@dibs/config';
import { prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { buildRouting } from './app.js';
import { RoutingConfigSchema } from './config.js';

// Process only: config → logger → build → start → close on signals → listen.
await runMain('routing', async () => {
  const config = loadConfig(RoutingConfigSchema);
  const logger = createLogger({ service: 'routing', level: config.LOG_LEVEL });
  await prepareDatabase(config.DATABASE_URL);
  const routing = await buildRouting({ config, logger });
  closeOnSignals(logger, () => routing.close());
  await routing.start();
  const address = await routing.app.listen({ host: config.HOST, port: config.ROUTING_PORT });
  logger.info({ address }, 'routing probes listening');
});
