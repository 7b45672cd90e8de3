import { envPieces, loadConfig, runMain, StartupError, z } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import { createOrm, sqlOf } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstream } from '@nats-io/jetstream';
import { rebuildProjections } from './rebuild-projections.js';
import { createFactsRepository } from './repositories/facts.repository.js';

// `npm run analytics:rebuild`: empties analytics' tables and replays the whole EVENTS stream.
await runMain('analytics-rebuild', async () => {
  const config = loadConfig(
    z.object({
      LOG_LEVEL: envPieces.LOG_LEVEL,
      DATABASE_URL: envPieces.DATABASE_URL,
      NATS_URL: envPieces.NATS_URL,
      NATS_PREFIX: envPieces.NATS_PREFIX,
    }),
  );
  const logger = createLogger({ service: 'analytics-rebuild', level: config.LOG_LEVEL });
  const nc = await connectNats({ servers: config.NATS_URL, name: 'dibs-analytics-rebuild', logger }).catch(
    (err: Error) => {
      throw new StartupError(`NATS is not reachable at ${config.NATS_URL.join(',')}: ${err.message}`);
    },
  );
  const orm = await createOrm({ url: config.DATABASE_URL, logger, poolMax: 2 });
  try {
    const js = jetstream(nc);
    const names = natsNames(config.NATS_PREFIX);
    // A deployment that never ran still gets its (empty) stream, so the replay has a start.
    await provisionStreams(await js.jetstreamManager(), names);
    const result = await rebuildProjections({
      js,
      names,
      repo: createFactsRepository(sqlOf(orm.em)),
      logger,
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await nc.drain();
    await orm.close();
  }
});
