import type { NatsNames } from '@dibs/contracts';
import { keepRunning } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface EventConsumerOptions {
  nc: NatsConnection;
  names: NatsNames;
  logger: Logger;
  /**
   * Handles one lifecycle event; the next one waits for it, so every socket sees them in order.
   * `payload()` parses the body (and throws when it is not JSON): an event that cannot notify
   * anyone is dropped without being parsed.
   */
  handle(subject: string, payload: () => unknown): Promise<void>;
  /** Wait before re-creating the consumer after it failed. */
  retryMs?: number;
}

/**
 * Every gateway replica reads every lifecycle event (the EVENTS stream, whose events carry the
 * notifications) through its own ordered consumer, from "now" on (older offers reach a client
 * through its snapshot). An ordered consumer resumes after a NATS reconnect from the last
 * sequence it saw, so a hiccup loses nothing, and it never redelivers, while JetStream's duplicate
 * window already dropped a relay's republish. Messages are handled one at a time to keep the order
 * of events on each socket. Should the consumer itself fail (e.g. the stream was re-created), a
 * new one starts and readiness says so meanwhile.
 */
export async function startEventConsumer({ nc, names, logger, handle, retryMs = 1000 }: EventConsumerOptions) {
  const js = jetstream(nc);
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let consuming = false;

  const jsm = await jetstreamManager(nc);
  const streamCreated = async () => (await jsm.streams.info(names.streams.events)).created;

  type Start = { policy: 'after'; seq: number } | { policy: 'since'; time: string };

  // At start-up and after a failure, right after the last message handled (at start-up: the last
  // one stored); after the stream was re-created, everything stored in the new stream.
  async function open(start: Start): Promise<ConsumerMessages> {
    const from =
      start.policy === 'after'
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time };
    const consumer = await js.consumers.get(names.streams.events, {
      filter_subjects: names.subjects.eventsAll,
      ...from,
    });
    return consumer.consume({ max_messages: 256, expires: 10_000 });
  }

  /**
   * An ordered consumer survives a NATS reconnect, but not the stream being deleted and
   * re-created: it would resume at the old sequence and skip everything until the new stream
   * caught up. When it reports trouble, compare the stream's creation time and start over.
   */
  async function watch(iter: ConsumerMessages, created: string): Promise<void> {
    for await (const status of iter.status()) {
      if (!TROUBLE.has(status.type) || stopping) continue;
      for (let i = 0; i < 120 && !stopping; i++) {
        const now = await streamCreated().catch(() => undefined);
        if (now !== undefined) {
          if (now !== created) {
            logger.warn({ stream: names.streams.events }, 'events stream was re-created; restarting the consumer');
            await iter.close();
          }
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async function drain(iter: ConsumerMessages): Promise<void> {
    for await (const msg of iter) {
      lastSeq = msg.seq;
      let parsed = true;
      const payload = () => {
        try {
          return msg.json();
        } catch (err) {
          parsed = false;
          throw err;
        }
      };
      try {
        await handle(msg.subject, payload);
      } catch (err) {
        if (!parsed) logger.warn({ subject: msg.subject, seq: msg.seq }, 'lifecycle event is not JSON; skipped');
        else logger.error({ err, subject: msg.subject }, 'notification delivery failed');
      }
    }
  }

  let lastSeq = 0;

  let iter: ConsumerMessages | undefined;
  let created = '';

  // One consumer at a time; when it ends or fails a new one starts `retryMs` later, from where
  // the last one stopped.
  async function consume(): Promise<void> {
    try {
      if (!iter) {
        const now = await streamCreated();
        const start: Start = now !== created ? { policy: 'since', time: now } : { policy: 'after', seq: lastSeq };
        if (now !== created) lastSeq = 0;
        created = now;
        iter = await open(start);
      }
      // A stop that came while this consumer was being opened closed the previous one only.
      if (stopping) {
        await iter.close();
        return;
      }
      messages = iter;
      consuming = true;
      void watch(iter, created).catch(() => undefined);
      await drain(iter);
    } finally {
      consuming = false;
      iter = undefined;
    }
  }

  // "Now" is the stream's last sequence at start-up, pinned: a consumer started with DeliverPolicy.New
  // and re-created (by this loop, or by the ordered consumer itself after missed heartbeats) before
  // its first message would start from a new "now" and skip what was published meanwhile.
  // The first consumer is created before start-up completes, so a missing stream fails it loudly.
  const info = await jsm.streams.info(names.streams.events);
  lastSeq = info.state.last_seq;
  iter = await open({ policy: 'after', seq: lastSeq });
  created = info.created;
  // A reconnect starts a new consumer from the last sequence handled, as nats.go does for ordered
  // consumers (nats-io/nats.go#1643): what the server sent to the pull request while this
  // connection was gone is lost on the wire, and finding the gap otherwise waits for the next event
  // or missed heartbeats (the outage test waited past 20 s on a busy machine).
  void (async () => {
    for await (const s of nc.status()) {
      if (stopping) return;
      if (s.type === 'reconnect') await messages?.close().catch(() => undefined);
    }
  })();
  const loop = keepRunning(consume, {
    name: 'notification consumer',
    logger,
    retryMs,
    idleMs: retryMs,
  });

  return {
    /** Whether notifications are being consumed (readiness). */
    healthy: () => consuming,
    async stop(): Promise<void> {
      stopping = true;
      const stopped = loop.stop();
      await messages?.close();
      await stopped;
    },
  };
}
export type EventConsumer = Awaited<ReturnType<typeof startEventConsumer>>;

const TROUBLE = new Set([
  'heartbeats_missed',
  'consumer_not_found',
  'stream_not_found',
  'consumer_deleted',
  'ordered_consumer_recreated',
  'reset',
]);
