import { resolveJwtSecret, runMain } from '@dibs/config';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { buildConsole } from './app.js';
import { loadConsoleConfig } from './config.js';
import { devLoginEnabled } from './runtime-config.js';

// Process only: config → logger → build → close on signals → listen (docs/decisions/012-service-shape.md).
await runMain('console', async () => {
  const config = loadConsoleConfig();
  // Only the development sign-in signs tokens; in production the console holds no secret.
  const jwtSecret = devLoginEnabled(config) ? resolveJwtSecret(config) : undefined;
  const logger = createLogger({ service: 'console', level: config.LOG_LEVEL });
  const server = await buildConsole({ config, logger, ...(jwtSecret ? { jwtSecret } : {}) });
  closeOnSignals(logger, () => server.close());
  await server.app.listen({ port: config.CONSOLE_PORT, host: config.HOST });
});
