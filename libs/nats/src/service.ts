import { StartupError } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from './connection.js';
import { provisionStreams } from './provision.js';

export interface ServiceNatsConfig {
  NATS_URL: string[];
  NATS_PREFIX: string;
  /** Replicas for the streams this replica creates; existing streams keep theirs when unset. */
  NATS_STREAM_REPLICAS?: number | undefined;
}

/**
 * A service's NATS connection, as every `main.ts` opens it: connected (an unreachable server is a
 * StartupError saying where it was expected) and dibs' streams provisioned. The caller drains it.
 */
export async function openNats(
  config: ServiceNatsConfig,
  { name, logger }: { name: string; logger?: Logger },
): Promise<NatsConnection> {
  const nc = await connectNats({ servers: config.NATS_URL, name, ...(logger ? { logger } : {}) }).catch(
    (err: Error) => {
      throw new StartupError(
        `NATS is not reachable at ${config.NATS_URL.join(',')} (${err.message}). Start one: \`docker compose up -d nats\`, or nats-server -js.`,
      );
    },
  );
  await provisionStreams(await jetstreamManager(nc), natsNames(config.NATS_PREFIX), {
    replicas: config.NATS_STREAM_REPLICAS,
  });
  return nc;
}
