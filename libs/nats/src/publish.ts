import type { MessageContract, NatsNames } from '@dibs/contracts';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import type { z } from 'zod';

/**
 * Publishes `payload` to JetStream on `contract`'s subject. Services publish what they change
 * through their outbox (`@dibs/db`), in the transaction that changes it; this is for what is not a
 * change of a service's data — the gateway's seen acks (an observation, deduplicated by message
 * id; the gateway holds no database state) — and for tools and tests that stand in for a publisher.
 */
export function publish<P extends z.ZodType>(
  js: JetStreamClient,
  names: Pick<NatsNames, 'abs'>,
  contract: MessageContract<string, P>,
  payload: NoInfer<z.input<P>>,
  opts?: Partial<JetStreamPublishOptions>,
): Promise<PubAck> {
  return js.publish(names.abs(contract.subject), JSON.stringify(payload), opts);
}
