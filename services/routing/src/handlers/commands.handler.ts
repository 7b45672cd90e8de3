import { contracts, type NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { serve } from '@dibs/nats';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { CommandService } from '../services/command-service.js';

/**
 * Serves accept / decline / cancel as request-reply in the routing queue group, so every replica
 * shares them and each command is answered by exactly one.
 */
export function serveCommands(
  nc: NatsConnection,
  names: NatsNames,
  commands: CommandService,
  logger: Logger,
): Subscription[] {
  const queue = names.queues.routing;
  return [
    serve(nc, names, contracts.routing.accept, queue, commands.accept, logger),
    serve(nc, names, contracts.routing.decline, queue, commands.decline, logger),
    serve(nc, names, contracts.routing.cancel, queue, commands.cancel, logger),
  ];
}
