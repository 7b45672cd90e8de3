import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GATEWAY_CLOSE_CODES } from '@dibs/contracts';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Connection } from '../connections/connection.js';
import { ownFrame } from '../connections/frames.js';
import { AbuseGuard } from '../domain/abuse-guard.js';
import { msUntilExpiry } from '../domain/handshake.js';
import { snapshotItems } from '../domain/snapshot.js';
import { onClientMessage } from './client-messages.js';
import { closeConnection, type GatewayContext } from './context.js';

/** Warn this long before the token expires (only tokens that live longer than twice that get a warning). */
const EXPIRY_WARNING_MS = 30_000;
// setTimeout cannot wait longer than this; a longer-lived token re-arms its timer.
const MAX_TIMER_MS = 2 ** 31 - 1;

let nextSeq = 1;

/**
 * A new socket after a successful handshake: registered first (live frames wait), then `hello`,
 * then for mechanics the snapshot read from PostgreSQL, then the waiting live frames.
 */
export function createSocketHandler(ctx: GatewayContext) {
  const { config, hub, metrics, logger } = ctx;

  return function onSocket(ws: WebSocket, request: FastifyRequest): void {
    const identity = request.gateway;
    if (!identity) {
      ws.close(1011, 'no identity');
      return;
    }
    identity.release();
    const { principal, approved } = identity;
    forgetHandshake(ws, request);
    const guard = new AbuseGuard(config.GATEWAY_RATE_LIMIT, config.GATEWAY_ABUSE_LIMIT, ctx.clock());
    const conn = new Connection(nextSeq++, ws, principal.role, principal.sub, guard, ctx.limits);
    hub.add(conn, approved);
    if (conn.role === 'mechanic') ctx.presence.set(conn.userId, hub.connectionsOf(conn.userId));

    ws.on('message', (data) => {
      conn.alive = true;
      void onClientMessage(ctx, conn, data).catch((err) =>
        logger.error({ err, conn: conn.seq }, 'client frame failed'),
      );
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.once('close', (code) => {
      clearTimeout(conn.expiryTimer);
      const left = hub.remove(conn);
      if (conn.role === 'mechanic' && left >= 0) ctx.presence.set(conn.userId, left);
      metrics.disconnects.inc({ reason: conn.closeReason ?? 'client' });
      logger.debug({ conn: conn.seq, role: conn.role, user_id: conn.userId, code }, 'socket closed');
    });

    conn.write(
      ownFrame(
        'hello',
        { role: conn.role, user_id: conn.userId, heartbeat_ms: config.GATEWAY_HEARTBEAT_MS },
        ctx.clock(),
      ),
    );
    armExpiry(ctx, conn, principal.exp);
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
  ws.on('error', () => ws.terminate());
}

async function sendSnapshot(ctx: GatewayContext, conn: Connection, approved: boolean): Promise<void> {
  try {
    const now = ctx.clock();
    const open = await ctx.directory.openRequests(conn.userId, approved, now, ctx.config.GATEWAY_SNAPSHOT_LIMIT);
    const items = snapshotItems(open, now);
    for (const item of items) conn.markOffered(item.request.id, item.kind);
    conn.write(ownFrame('snapshot', { open_requests: items }, ctx.clock()));
    conn.open();
  } catch (err) {
    // Without its snapshot the client could miss an open offer: make it reconnect instead.
    ctx.logger.error({ err, mechanic_id: conn.userId }, 'snapshot failed; asking the client to reconnect');
    closeConnection(conn, 1011, 'snapshot_failed');
  }
}

function armExpiry(ctx: GatewayContext, conn: Connection, exp: number): void {
  const left = msUntilExpiry(exp, ctx.clock());
  const warnAt = left > 2 * EXPIRY_WARNING_MS ? left - EXPIRY_WARNING_MS : undefined;
  const expiresAt = new Date(exp * 1000).toISOString();
  const arm = (delay: number, fire: () => void) => {
    conn.expiryTimer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) arm(delay - MAX_TIMER_MS, fire);
        else fire();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    conn.expiryTimer.unref();
  };
  const expire = () => {
    ctx.logger.info({ conn: conn.seq, user_id: conn.userId, role: conn.role }, 'token expired; closing');
    closeConnection(conn, GATEWAY_CLOSE_CODES.tokenExpired, 'token_expired');
  };
  if (warnAt === undefined) {
    arm(left, expire);
    return;
  }
  arm(warnAt, () => {
    conn.write(ownFrame('token_expiring', { expires_at: expiresAt }, ctx.clock()));
    arm(EXPIRY_WARNING_MS, expire);
  });
}
