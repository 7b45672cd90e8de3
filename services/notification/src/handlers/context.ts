import type { Logger } from '@dibs/logger';
import type { Directory } from '../adapters/directory.repository.js';
import type { DisconnectReason, GatewayMetrics } from '../adapters/gateway.metrics.js';
import type { Presence } from '../adapters/presence.js';
import type { RoutingCommands } from '../adapters/routing-commands.js';
import type { SeenPublisher } from '../adapters/seen-acks.publisher.js';
import type { GatewayConfig } from '../config.js';
import type { Connection, ConnectionLimits } from '../connections/connection.js';
import type { ConnectionHub } from '../connections/hub.js';

/** What the socket handlers share within one gateway instance. */
export interface GatewayContext {
  config: GatewayConfig;
  clock: () => number;
  logger: Logger;
  hub: ConnectionHub;
  directory: Directory;
  commands: RoutingCommands;
  publishSeen: SeenPublisher;
  presence: Presence;
  metrics: GatewayMetrics;
  limits: ConnectionLimits;
}

/** Starts closing a connection for `reason`; a peer that never completes the close is cut by the heartbeat. */
export function closeConnection(conn: Connection, code: number, reason: DisconnectReason): void {
  if (conn.closingSince !== 0) return;
  conn.closeReason = reason;
  conn.closingSince = Date.now();
  conn.ws.close(code, reason);
}
