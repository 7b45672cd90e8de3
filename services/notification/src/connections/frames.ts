import { randomUUID } from 'node:crypto';
import type { Notification } from '@dibs/contracts';
import type { OutFrame } from './connection.js';

/** One of the gateway's own frames, with a fresh id and `at` (CONTRACT §4: every frame has both). */
export function ownFrame(type: string, body: Record<string, unknown>, now: number): OutFrame {
  const id = randomUUID();
  return { id, type, data: Buffer.from(JSON.stringify({ id, type, at: new Date(now).toISOString(), ...body })) };
}

/** A relayed notification, serialized once for every socket it goes to; its id is the event's. */
export function relayedFrame(n: Notification): OutFrame {
  return { id: n.id, type: n.type, data: Buffer.from(JSON.stringify(n)) };
}
