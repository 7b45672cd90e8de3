import type { MessageContract, NatsNames } from '@dibs/contracts';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import type { z } from 'zod';

/**
 * Publishes `payload` to JetStream on `contract`'s subject. Services publish through their outbox
 * (`@dibs/db`); this is for tools and tests that stand in for a publisher.
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
