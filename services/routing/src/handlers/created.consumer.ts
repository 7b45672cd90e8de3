import { RequestEventSchema, type SessionRequest } from '@dibs/contracts';
import { type BackgroundLoop, keepRunning } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { RoutingMetrics } from '../metrics.js';
import type { RequestRouter } from '../services/request-router.js';

export interface CreatedConsumerOptions {
  /** Resolves the durable consumer (again after a failure). */
  consumer: () => Promise<Consumer>;
  router: RequestRouter;
  logger: Logger;
  metrics: RoutingMetrics;
  /** Messages handled at once. */
  concurrency: number;
  ackWaitMs: number;
  /** Delay before a message whose handling failed (database down…) is offered again. */
  retryMs?: number;
}

/**
 * How long one pull request lasts. JetStream keeps it alive with idle heartbeats (every half of
 * this), and the client pulls anew after two are missed: when the node leading the consumer dies
 * while this replica is connected to another node (no disconnect to notice), its pull dies with
 * that leader and is replaced about this long later, not after the client's default 30 s
 * (test/nats-cluster.test.ts). An idle replica sends one pull request per period.
 */
const PULL_EXPIRES_MS = 5000;

/**
 * Pulls `request.created` from the durable consumer every routing replica shares and routes each
 * request, then acks it: a priority window, once open, is held by its row (its stored deadline)
 * and fired by the window sweeper of whichever replica is alive (docs/decisions/011-capacity.md).
 * A message whose handling failed (database down…) is handed back to be tried again.
 */
export function createCreatedConsumer(opts: CreatedConsumerOptions) {
  const { router, logger, metrics, concurrency, ackWaitMs } = opts;
  const retryMs = opts.retryMs ?? 1000;
  let messages: ConsumerMessages | undefined;
  let loop: BackgroundLoop | undefined;
  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;

  async function handle(msg: JsMsg): Promise<void> {
    let requestId: string;
    let created: SessionRequest | undefined;
    try {
      const event = RequestEventSchema.parse(msg.json());
      if (event.kind !== 'created') throw new Error(`a ${event.kind} event on the created subject`);
      requestId = event.request.id;
      // Only a first delivery may stand for the stored row; a redelivery is decided from the row.
      if (!msg.redelivered) created = event.request;
    } catch (err) {
      // Redelivering it would fail the same way forever: drop it, say so, keep going.
      logger.error(
        { subject: msg.subject, stream_seq: msg.seq, err: { message: (err as Error).message.slice(0, 500) } },
        'terminating a malformed or unknown-version created event',
      );
      metrics.terminated.inc();
      // No reason text: nats-server 2.9 only recognises a bare `+TERM` and ignores `+TERM <reason>`.
      msg.term();
      return;
    }
    // A slow database must not make JetStream think this replica died holding the message.
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, ackWaitMs / 3));
    try {
      await router.route(requestId, created);
      msg.ack();
    } catch (err) {
      metrics.retries.inc();
      logger.warn(
        { request_id: requestId, err: { message: (err as Error).message } },
        'routing failed; retrying later',
      );
      msg.nak(retryMs);
    } finally {
      clearInterval(keepAlive);
    }
  }

  // One pull subscription at a time: when it ends (consumer deleted, connection closed) a new one
  // starts 250 ms later; when it fails, 1 s later.
  async function pull(signal: AbortSignal): Promise<void> {
    const consumer = await opts.consumer();
    // stop() may have come while the consumer was being looked up, with nothing yet to close.
    if (signal.aborted) return;
    messages = await consumer.consume({ max_messages: concurrency, expires: PULL_EXPIRES_MS });
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
      const p: Promise<void> = handle(msg).finally(() => {
        inFlight.delete(p);
        slotFreed?.();
        slotFreed = undefined;
      });
      inFlight.add(p);
    }
  }

  return {
    start(): void {
      loop = keepRunning(pull, { name: 'created consumer', logger, retryMs: 1000, idleMs: 250 });
    },
    /** Stops pulling and waits for the messages in hand. */
    async stop(): Promise<void> {
      const stopped = loop?.stop();
      await messages?.close().catch(() => undefined);
      slotFreed?.();
      await Promise.allSettled([...inFlight]);
      await stopped;
    },
  };
}
