import type { NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { ensureConsumer } from '@dibs/nats';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { AnalyticsMetrics } from '../metrics.js';
import type { FactsRepository } from '../repositories/facts.repository.js';
import { applyMessages } from './apply-messages.js';

export interface EventProjectorOptions {
  js: JetStreamClient;
  names: NatsNames;
  repo: FactsRepository;
  logger: Logger;
  metrics: AnalyticsMetrics;
  clock: () => number;
  /** Most messages written in one statement. */
  maxBatch?: number;
  /**
   * How long the first message of a batch waits for company. A statement of hundreds of events
   * costs the database a few times less per event than one of a handful, so a few milliseconds
   * of latency buy most of the throughput under load.
   */
  lingerMs?: number;
  /** How long a batch that failed to write waits before it is redelivered. */
  retryDelayMs?: number;
}

export interface EventProjector {
  start(): Promise<void>;
  /** Stops pulling, finishes the batch in flight and hands unprocessed messages back. */
  stop(): Promise<void>;
  isRunning(): boolean;
  /** The durable consumer's backlog: not yet delivered plus delivered and unacked. */
  pending(): Promise<number>;
}

// Unacked messages the server lets out at once, over all replicas: bounds the memory a replica
// holds while the database is slow, and is far above what a batch needs to keep the pace.
const MAX_ACK_PENDING = 10_000;

/**
 * The durable consumer of everything under `events.>` (NATS 2.9 has no multi-filter): the
 * lifecycle events (`events.request.*`) and the seen acks (`events.offer.seen`), told apart by
 * subject. Deployments created before the acks existed already filter on `events.>`, so the
 * consumer's configuration is unchanged.
 * Messages are collected while the previous batch is being written, so under load a batch is
 * large (one statement for hundreds of events) and under light load an event is written alone
 * at once. Shared by replicas: each message goes to one of them; redeliveries are harmless
 * because the projection is idempotent.
 */
export function createEventProjector(opts: EventProjectorOptions): EventProjector {
  const { js, names, repo, logger, metrics, clock } = opts;
  const maxBatch = opts.maxBatch ?? 500;
  const lingerMs = opts.lingerMs ?? 20;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const stream = names.streams.events;
  const durable = names.consumers.analytics;

  let buffer: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let full: (() => void) | undefined;
  let running = false;
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;

  function enqueue(msg: JsMsg): void {
    buffer.push(msg);
    wake?.();
    if (buffer.length >= maxBatch) full?.();
  }

  /** Resolves when the buffer holds a full batch, or after `lingerMs`. */
  function linger(): Promise<void> {
    if (buffer.length >= maxBatch || lingerMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, lingerMs);
      function done() {
        clearTimeout(timer);
        full = undefined;
        resolve();
      }
      full = done;
    });
  }

  async function handle(batch: JsMsg[]): Promise<boolean> {
    try {
      const { applied, rejected } = await applyMessages(repo, batch, names.subjects.seen, logger);
      // No reason string: `+TERM <reason>` needs NATS 2.10.4; 2.9 ignores it. The log line has the reason.
      for (const r of rejected) r.msg.term();
      metrics.rejected.inc(rejected.length);
      const now = clock();
      for (const a of applied) {
        a.msg.ack();
        metrics.processed.inc({ kind: a.kind });
        metrics.eventLag.observe(Math.max(0, now - Date.parse(a.occurredAt)) / 1000);
      }
      return true;
    } catch (err) {
      metrics.failedBatches.inc();
      logger.error({ err, messages: batch.length }, 'could not project events; they will be redelivered');
      for (const msg of batch) msg.nak(retryDelayMs);
      return false;
    }
  }

  async function work(): Promise<void> {
    let backoff = retryDelayMs;
    while (running) {
      if (buffer.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      await linger();
      const batch = buffer.splice(0, maxBatch);
      if (batch.length === 0) continue;
      if (await handle(batch)) backoff = retryDelayMs;
      else {
        // The database is failing: do not spin through the backlog naking everything at once.
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  return {
    async start() {
      if (running) return;
      await ensureConsumer(await js.jetstreamManager(), stream, {
        durable_name: durable,
        filter_subject: names.subjects.eventsAll,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: MAX_ACK_PENDING,
        max_deliver: -1,
        description: 'analytics: projects lifecycle events and seen acks into the read model',
      });
      const consumer = await js.consumers.get(stream, durable);
      running = true;
      messages = await consumer.consume({ max_messages: 1000, callback: enqueue });
      loop = work();
      logger.info({ stream, consumer: durable }, 'analytics consumer started');
    },
    async stop() {
      if (!running) return;
      running = false;
      await messages?.close();
      wake?.();
      full?.();
      await loop;
      // Whatever was pulled but not written goes back now rather than after ack_wait.
      for (const msg of buffer) msg.nak();
      buffer = [];
    },
    isRunning: () => running,
    async pending() {
      const jsm = await js.jetstreamManager();
      const info = await jsm.consumers.info(stream, durable);
      return info.num_pending + info.num_ack_pending;
    },
  };
}
