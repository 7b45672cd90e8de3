import { CancelCommandSchema, MechanicCommandSchema, type NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { serveRequests } from '@dibs/nats';
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
  const { routingCommand } = names.subjects;
  const queue = names.queues.routing;
  return [
    serveRequests(nc, routingCommand('accept'), queue, MechanicCommandSchema, commands.accept, logger),
    serveRequests(nc, routingCommand('decline'), queue, MechanicCommandSchema, commands.decline, logger),
    serveRequests(nc, routingCommand('cancel'), queue, CancelCommandSchema, commands.cancel, logger),
  ];
}
