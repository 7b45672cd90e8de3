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
  notify: z.array(DeliverySchema).default([]),
});
export type RequestEvent = z.infer<typeof RequestEventSchema>;
export type RequestEventOf<K extends EventKind> = RequestEvent & { kind: K };
