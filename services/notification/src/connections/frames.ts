import { randomUUID } from 'node:crypto';
import type { GatewayFrameInit, Notification } from '@dibs/contracts';
import type { OutFrame } from './connection.js';

/**
 * One of the gateway's own frames, typed by its schema in `@dibs/contracts`
 * (`GATEWAY_FRAME_SCHEMAS`), with a fresh id and `at` (CONTRACT §4: every frame has both).
 */
export function ownFrame(init: GatewayFrameInit, now: number): OutFrame {
  const id = randomUUID();
  const { type, ...body } = init;
  return { id, type, data: Buffer.from(JSON.stringify({ id, type, at: new Date(now).toISOString(), ...body })) };
}

/** A relayed notification, serialized once for every socket it goes to; its id is the event's. */
export function relayedFrame(n: Notification): OutFrame {
  return { id: n.id, type: n.type, data: Buffer.from(JSON.stringify(n)) };
}
