import type { Logger } from '@dibs/logger';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectOptions {
  servers: string[];
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  logger?: Logger;
  /** How long the first connection may take before start-up fails. */
  timeoutMs?: number;
}

/**
 * Connects to NATS and keeps reconnecting forever once connected: a NATS outage pauses
 * publishing, it never ends the process. The first connection must succeed within `timeoutMs`
 * so a missing server is reported at start-up instead of hanging.
 */
export async function connectNats({
  servers,
  name,
  logger,
  timeoutMs = 5000,
}: NatsConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name,
    timeout: timeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 10_000,
  });
  if (logger) void logStatus(nc, logger);
  return nc;
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') logger.warn({ server: s.server }, 'nats disconnected');
    else if (s.type === 'reconnect') logger.info({ server: s.server }, 'nats reconnected');
    else if (s.type === 'error') logger.error({ err: s.error }, 'nats error');
  }
}

/** True when the connection is up (not closed, not reconnecting). */
export function natsIsUp(nc: NatsConnection): boolean {
  return (
    !nc.isClosed() &&
    !nc.isDraining() &&
    nc.info !== undefined &&
    (nc as { protocol?: { connected?: boolean } }).protocol?.connected !== false
  );
}
