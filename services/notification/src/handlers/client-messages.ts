import { GATEWAY_CLOSE_CODES, type GatewayFrameInit } from '@dibs/contracts';
import type { RawData } from 'ws';
import type { Connection } from '../connections/connection.js';
import { ownFrame } from '../connections/frames.js';
import { MAX_CLIENT_FRAME_BYTES, parseClientFrame } from '../domain/client-frame.js';
import { closeConnection, type GatewayContext } from './context.js';
import { onSeen } from './seen-ack.js';

/**
 * One client frame: rate limit, parse, then ping → pong, seen → forwarded once (`seen-ack.ts`), or
 * accept/decline → routing → result. A frame breaking the protocol (rate, size, JSON, type, shape)
 * is answered with an error frame or result and counts as a strike; enough strikes close the
 * socket with 1008. A well-formed frame refused for what it asks (a customer's command, routing's
 * codes, `not_offered`) is answered but is no strike.
 */
export async function onClientMessage(ctx: GatewayContext, conn: Connection, data: RawData): Promise<void> {
  const now = ctx.clock();
  if (!conn.isOpen) return;
  if (!conn.guard.admit(now)) {
    refuse(ctx, conn, {
      type: 'error',
      code: 'rate_limited',
      detail: `at most ${ctx.config.GATEWAY_RATE_LIMIT} frames per second`,
    });
    return;
  }
  const bytes = byteLength(data);
  const parsed = parseClientFrame(bytes > MAX_CLIENT_FRAME_BYTES ? '' : text(data), bytes);
  if (!parsed.ok) {
    if (parsed.answer === 'error') refuse(ctx, conn, { type: 'error', code: parsed.code, detail: parsed.detail });
    else refuse(ctx, conn, { type: 'result', ref: parsed.ref, ok: false, code: parsed.code, detail: parsed.detail });
    return;
  }
  const frame = parsed.frame;
  if (frame.type === 'ping') {
    conn.write(ownFrame({ type: 'pong' }, now));
    return;
  }
  if (frame.type === 'seen') {
    await onSeen(ctx, conn, frame.request_id);
    return;
  }
  const ref = frame.ref ?? null;
  if (conn.role !== 'mechanic') {
    conn.write(
      ownFrame({ type: 'result', ref, ok: false, code: 'forbidden', detail: 'only mechanics accept or decline' }, now),
    );
    return;
  }
  if (frame.type === 'accept') conn.beginAccept(frame.request_id);
  const reply = await ctx.commands(frame.type, { request_id: frame.request_id, mechanic_id: conn.userId });
  if (reply.ok) {
    ctx.hub.setApproved(conn.userId, true);
    conn.write(ownFrame({ type: 'result', ref, ok: true, request: reply.request }, ctx.clock()));
  } else {
    if (reply.code === 'mechanic_not_approved') ctx.hub.setApproved(conn.userId, false);
    const result = {
      type: 'result',
      ref,
      ok: false,
      code: reply.code,
      ...(reply.detail ? { detail: reply.detail } : {}),
    } as const;
    conn.write(ownFrame(result, ctx.clock()));
  }
  // After the result: a loser then gets the request_taken that may have overtaken the reply.
  if (frame.type === 'accept') conn.endAccept(frame.request_id, reply.ok);
  ctx.logger.debug(
    { mechanic_id: conn.userId, request_id: frame.request_id, command: frame.type, ok: reply.ok },
    'command',
  );
}

function refuse(
  ctx: GatewayContext,
  conn: Connection,
  frame: Extract<GatewayFrameInit, { type: 'error' | 'result' }>,
): void {
  const now = ctx.clock();
  ctx.metrics.framesDropped.inc({ reason: String(frame.code) });
  conn.write(ownFrame(frame, now));
  if (conn.guard.strike(now)) {
    ctx.logger.warn({ user_id: conn.userId, role: conn.role, conn: conn.seq }, 'closing an abusive connection');
    closeConnection(conn, GATEWAY_CLOSE_CODES.policyViolation, 'abuse');
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
