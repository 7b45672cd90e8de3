import { contracts, type NatsNames, type SeenEvent, seenMessageId } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { publish } from '@dibs/nats';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Publishes seen acks (CONTRACT §7) to `events.offer.seen` with JetStream. The message id is one
 * per (request, mechanic), so the stream drops a repeat from another socket, reconnect or gateway
 * within its duplicate window, and a retry after a lost ack. The gateway keeps no durable state, so
 * there is no outbox: a seen is an observation, not a command, and losing one to an outage only
 * makes an offer look unseen. Resolves false (after one retry) instead of throwing.
 */
export function createSeenPublisher(nc: NatsConnection, names: NatsNames, logger: Logger) {
  const js = jetstream(nc);
  return async function publishSeen(event: SeenEvent): Promise<boolean> {
    try {
      // retries: 2 = one more attempt, after a short backoff, on a timeout or no responders.
      await publish(js, names, contracts.seen, event, {
        msgID: seenMessageId(event.request_id, event.mechanic_id),
        retries: 2,
      });
      return true;
    } catch (err) {
      logger.warn(
        { err: { message: (err as Error).message }, request_id: event.request_id, mechanic_id: event.mechanic_id },
        'seen ack not published',
      );
      return false;
    }
  };
}
export type SeenPublisher = ReturnType<typeof createSeenPublisher>;
