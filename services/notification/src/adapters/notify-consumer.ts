import type { NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface NotifyConsumerOptions {
  nc: NatsConnection;
  names: NatsNames;
  logger: Logger;
  /** Handles one notification; the next one waits for it, so every socket sees them in order. */
  handle(subject: string, payload: unknown): Promise<void>;
}

/**
 * Every gateway replica reads the whole NOTIFY stream through its own ordered consumer, from
 * "now" on (older offers reach a client through its snapshot). An ordered consumer resumes after
 * a NATS reconnect from the last sequence it saw, so a hiccup loses nothing, and it never
 * redelivers, while JetStream's duplicate window already dropped a relay's republish. Messages
 * are handled one at a time to keep the order of events on each socket.
 */
export async function startNotifyConsumer({ nc, names, logger, handle }: NotifyConsumerOptions) {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(names.streams.notify, {
    deliver_policy: DeliverPolicy.New,
    filter_subjects: names.subjects.notifyAll,
  });
  const messages = await consumer.consume({ max_messages: 256 });
  let lastMessageAt = Date.now();

  const loop = (async () => {
    for await (const msg of messages) {
      lastMessageAt = Date.now();
      let payload: unknown;
      try {
        payload = msg.json();
      } catch {
        logger.warn({ subject: msg.subject, seq: msg.seq }, 'notification is not JSON; skipped');
        continue;
      }
      try {
        await handle(msg.subject, payload);
      } catch (err) {
        logger.error({ err, subject: msg.subject }, 'notification delivery failed');
      }
    }
  })();

  return {
    lastMessageAt: () => lastMessageAt,
    async stop(): Promise<void> {
      await messages.close();
      await loop;
    },
  };
}
export type NotifyConsumer = Awaited<ReturnType<typeof startNotifyConsumer>>;
