import { type CommandReply, contracts, type MechanicCommand, type NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { request } from '@dibs/nats';
import type { NatsConnection } from '@nats-io/transport-node';

/** Forwards a mechanic's accept/decline to routing (request-reply); any failure to get an answer is `unavailable`. */
export function createRoutingCommands(nc: NatsConnection, names: NatsNames, timeoutMs: number, logger: Logger) {
  return async function send(command: 'accept' | 'decline', body: MechanicCommand): Promise<CommandReply> {
    try {
      return await request(nc, names, contracts.routing[command], body, timeoutMs);
    } catch (err) {
      // No responders, a timeout or a reply off the contract: the client may retry.
      logger.warn(
        { err: { message: (err as Error).message }, request_id: body.request_id, mechanic_id: body.mechanic_id },
        'routing did not answer',
      );
      return { ok: false, code: 'unavailable', detail: 'routing is unavailable; try again' };
    }
  };
}
export type RoutingCommands = ReturnType<typeof createRoutingCommands>;
