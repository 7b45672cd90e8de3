import { z } from 'zod';
import { FallbackReasonSchema, SessionRequestSchema } from './session-request.js';
import { EVENT_KINDS, type EventKind } from './subjects.js';

/** Current version of the event envelope; consumers terminate messages of any other version. */
export const EVENT_VERSION = 1;

const timestamp = z.iso.datetime({ offset: true });

/**
 * One thing a lifecycle event tells someone; the notification gateway turns it into a WebSocket
 * frame (`renderFrame`, CONTRACT §4). Routing decides who is told what; the gateway only finds the
 * sockets. Audiences:
 * - `priority_session_request`: the preferred mechanic `mechanic_id`;
 * - `new_request`: every connected approved mechanic but `exclude_mechanic_ids` (who declined);
 * - `request_taken` / `request_cancelled`: `mechanic_id`, or, when null, every mechanic that was
 *   offered the request (the gateway remembers which sockets were);
 * - `offer_expired`: `mechanic_id`, whose tier of a sequence ended unanswered;
 * - `request_update`: the request's customer.
 */
export const DeliverySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('priority_session_request'),
    mechanic_id: z.uuid(),
    priority_window_minutes: z.number().int(),
    expires_at: timestamp,
    message: z.string(),
    /** The tier offered (1 for a single preferred mechanic; events before issue 12 lack it). */
    tier: z.number().int().min(1).default(1),
  }),
  z.object({ type: z.literal('offer_expired'), mechanic_id: z.uuid() }),
  z.object({
    type: z.literal('new_request'),
    fallback_reason: FallbackReasonSchema.nullable(),
    exclude_mechanic_ids: z.array(z.uuid()),
  }),
  z.object({ type: z.literal('request_taken'), mechanic_id: z.uuid().nullable() }),
  z.object({ type: z.literal('request_cancelled'), mechanic_id: z.uuid().nullable() }),
  z.object({ type: z.literal('request_update') }),
]);
export type Delivery = z.infer<typeof DeliverySchema>;

/**
 * A lifecycle event of one session request, published on `events.request.<kind>`.
 * `id` is the outbox row id, which is also the JetStream `Nats-Msg-Id`, so it identifies the
 * event across redeliveries and replays. `request` is the row right after the change. `notify`
 * is what the change tells mechanics and the customer: one event carries the change and its
 * notifications, so a change costs one message (docs/decisions/011-capacity.md).
 */
export const RequestEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  id: z.uuid(),
  kind: z.enum(EVENT_KINDS),
  occurred_at: timestamp,
  request: SessionRequestSchema,
  /** The mechanic who acted (accepted or declined), when one did. */
  actor_mechanic_id: z.uuid().nullable().default(null),
  /**
   * An `accepted` event's price: the request's plan's price when it was accepted (CONTRACT §7),
   * stored on the request by the accept; null for an unknown plan and for every other kind.
   */
  price: z
    .object({ cents: z.number().int().min(0), currency: z.string().length(3) })
    .nullable()
    .default(null),
  notify: z.array(DeliverySchema).default([]),
});
export type RequestEvent = z.infer<typeof RequestEventSchema>;
export type RequestEventOf<K extends EventKind> = RequestEvent & { kind: K };

/**
 * A mechanic's app showed an offer (CONTRACT §7 "seen acks"), on `events.offer.seen`. The gateway
 * publishes it once per (request, mechanic) with the JetStream message id `seenMessageId(…)`, so a
 * repeat through another gateway within the stream's duplicate window is dropped too; analytics
 * keeps the first per (request, mechanic) whatever arrives later.
 */
export const SeenEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  request_id: z.uuid(),
  mechanic_id: z.uuid(),
  /** Which offer was shown: a priority offer (its tier; 1 for a single window) or a broadcast. */
  offer: z.enum(['priority', 'broadcast']),
  tier: z.number().int().min(1).nullable(),
  seen_at: timestamp,
});
export type SeenEvent = z.infer<typeof SeenEventSchema>;

/** The JetStream message id of a seen ack: one per (request, mechanic). */
export function seenMessageId(requestId: string, mechanicId: string): string {
  return `seen:${requestId}:${mechanicId}`;
}
