import { resolveJwtSecret, runMain, StartupError } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import { createOrm, prepareDatabase } from '@dibs/db';
import { closeOnSignals } from '@dibs/http';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { buildIntake } from './app.js';
import { loadIntakeConfig } from './config.js';

await runMain('intake', async () => {
  const config = loadIntakeConfig();
  const jwtSecret = resolveJwtSecret(config);
  const logger = createLogger({ service: 'intake', level: config.LOG_LEVEL });

  await prepareDatabase(config.DATABASE_URL);
  const orm = await createOrm({ url: config.DATABASE_URL, logger, poolMax: config.INTAKE_DB_POOL });
  const nc = await connectNats({ servers: config.NATS_URL, name: 'dibs-intake', logger }).catch((err: Error) => {
    throw new StartupError(
      `NATS is not reachable at ${config.NATS_URL.join(',')} (${err.message}). Start one: \`docker compose up -d nats\`, or nats-server -js.`,
    );
  });
  await provisionStreams(await jetstreamManager(nc), natsNames(config.NATS_PREFIX), {
    replicas: config.NATS_STREAM_REPLICAS,
  });

  const intake = await buildIntake({ config, jwtSecret, orm, nc, logger });
  closeOnSignals(logger, async () => {
    await intake.close();
    await nc.drain();
    await orm.close();
  });
  await intake.app.listen({ port: config.INTAKE_PORT, host: config.HOST });
});
