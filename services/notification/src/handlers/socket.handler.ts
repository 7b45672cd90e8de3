import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { Connection } from '../connections/connection.js';
import { ownFrame } from '../connections/frames.js';
import { AbuseGuard } from '../domain/abuse-guard.js';
import { snapshotItems } from '../domain/snapshot.js';
import { onClientMessage } from './client-messages.js';
import { closeConnection, type GatewayContext } from './context.js';
import { expiryTimes } from './token-expiry.js';

const kConn = Symbol('dibs.connection');
type TaggedSocket = WebSocket & { [kConn]: Connection };

let nextSeq = 1;

/**
 * A new socket after a successful handshake: registered first (live frames wait), then `hello`,
 * then for mechanics the snapshot read from PostgreSQL, then the waiting live frames.
 *
 * The socket's listeners are shared by all sockets (the connection hangs off the socket), so an
 * idle connection costs no closures of its own: memory per connection is what HPA scales on.
 */
export function createSocketHandler(ctx: GatewayContext) {
  const { config, hub, metrics, logger } = ctx;

  function onMessage(this: WebSocket, data: RawData): void {
    const conn = (this as TaggedSocket)[kConn];
    conn.alive = true;
    void onClientMessage(ctx, conn, data).catch((err) => logger.error({ err, conn: conn.seq }, 'client frame failed'));
  }
  function onPong(this: WebSocket): void {
    const conn = (this as TaggedSocket)[kConn];
    conn.alive = true;
    conn.sentSincePong = 0;
  }
  function onError(this: WebSocket): void {
    this.terminate();
  }
  function onClose(this: WebSocket, code: number): void {
    const conn = (this as TaggedSocket)[kConn];
    const left = hub.remove(conn);
    if (conn.role === 'mechanic' && left >= 0) ctx.presence.set(conn.userId, left);
    metrics.disconnects.inc({ reason: conn.closeReason ?? 'client' });
    logger.debug({ conn: conn.seq, role: conn.role, user_id: conn.userId, code }, 'socket closed');
  }

  return function onSocket(ws: WebSocket, request: FastifyRequest): void {
    const identity = request.gateway;
    if (!identity) {
      ws.close(1011, 'no identity');
      return;
    }
    identity.release();
    const { principal, approved } = identity;
    forgetHandshake(ws, request);
    const now = ctx.clock();
    const guard = new AbuseGuard(config.GATEWAY_RATE_LIMIT, config.GATEWAY_ABUSE_LIMIT, now);
    const conn = new Connection(nextSeq++, ws, principal.role, principal.sub, guard, ctx.limits);
    Object.assign(conn, expiryTimes(principal.exp, now));
    (ws as TaggedSocket)[kConn] = conn;
    hub.add(conn, approved);
    if (conn.role === 'mechanic') ctx.presence.set(conn.userId, hub.connectionsOf(conn.userId));

    ws.on('error', onError);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.once('close', onClose);

    const hello = {
      type: 'hello',
      role: conn.role,
      user_id: conn.userId,
      heartbeat_ms: config.GATEWAY_HEARTBEAT_MS,
    } as const;
    conn.write(ownFrame(hello, now));
    if (conn.role === 'customer') {
      conn.open();
      return;
    }
    void sendSnapshot(ctx, conn, approved);
  };
}

/**
 * Lets the handshake's objects go: @fastify/websocket's error listener closes over the Fastify
 * request and reply, and the raw socket still points at the upgrade's ServerResponse. Kept,
 * they would cost several KiB per connection for its whole life.
 */
function forgetHandshake(ws: WebSocket, request: FastifyRequest): void {
  const socket = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  socket._httpMessage?.detachSocket(socket);
  ws.removeAllListeners('error');
}

async function sendSnapshot(ctx: GatewayContext, conn: Connection, approved: boolean): Promise<void> {
  try {
    const now = ctx.clock();
    const open = await ctx.directory.openRequests(conn.userId, approved, now, ctx.config.GATEWAY_SNAPSHOT_LIMIT);
    const items = snapshotItems(open, now);
    for (const item of items) conn.markOffered(item.request.id, item.kind, item.tier);
    conn.write(ownFrame({ type: 'snapshot', open_requests: items }, ctx.clock()));
    conn.open();
  } catch (err) {
    // Without its snapshot the client could miss an open offer: make it reconnect instead.
    ctx.logger.error({ err, mechanic_id: conn.userId }, 'snapshot failed; asking the client to reconnect');
    closeConnection(conn, 1011, 'snapshot_failed');
  }
}
