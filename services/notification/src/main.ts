import { resolveJwtSecret, runMain, StartupError } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import { describeDbError, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

await runMain('notification', async () => {
  const config = loadGatewayConfig();
  const jwtSecret = resolveJwtSecret(config);
  const logger = createLogger({ service: 'notification', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.GATEWAY_DB_POOL });
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'database connection error'));
  await pool.query('select 1').catch((err: unknown) => {
    throw new StartupError(describeDbError(err, config.DATABASE_URL));
  });
  const nc = await connectNats({ servers: config.NATS_URL, name: 'dibs-notification', logger }).catch((err: Error) => {
    throw new StartupError(
      `NATS is not reachable at ${config.NATS_URL.join(',')} (${err.message}). Start one: \`docker compose up -d nats\`, or nats-server -js.`,
    );
  });
  await provisionStreams(await jetstreamManager(nc), natsNames(config.NATS_PREFIX), {
    replicas: config.NATS_STREAM_REPLICAS,
  });

  const gateway = await buildGateway({ config, jwtSecret, nc, pool, logger });
  closeOnSignals(
    logger,
    async () => {
      await gateway.close();
      await nc.drain();
      await pool.end();
    },
    config.GATEWAY_DRAIN_MS + 5000,
  );
  await gateway.app.listen({ port: config.GATEWAY_PORT, host: config.HOST });
  logger.info({ port: config.GATEWAY_PORT, instance_id: gateway.instanceId }, 'notification gateway listening');
});
