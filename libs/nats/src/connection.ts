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

// Whether each connection is currently attached to a server (false while reconnecting).
const up = new WeakMap<NatsConnection, boolean>();

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
    // Otherwise every request and JetStream publish builds an Error up front (a stack trace, in
    // case it times out): measured at ~10% of routing's CPU under load (docs/benchmarks.md,
    // bench:system). A timeout still rejects with a TimeoutError, only without the caller's stack.
    noAsyncTraces: true,
  });
  up.set(nc, true);
  void watchStatus(nc, logger);
  return nc;
}

async function watchStatus(nc: NatsConnection, logger: Logger | undefined): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') {
      up.set(nc, false);
      logger?.warn({ server: s.server }, 'nats disconnected');
    } else if (s.type === 'reconnect') {
      up.set(nc, true);
      logger?.info({ server: s.server }, 'nats reconnected');
    } else if (s.type === 'error') {
      logger?.error({ err: s.error }, 'nats error');
    }
  }
}

/** True when the connection is attached to a server (not closed, not reconnecting). */
export function natsIsUp(nc: NatsConnection): boolean {
  return !nc.isClosed() && !nc.isDraining() && up.get(nc) !== false;
}
