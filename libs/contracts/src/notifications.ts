import { z } from 'zod';
import type { Delivery, RequestEvent } from './events.js';
import {
  FallbackReasonSchema,
  type MechanicRequest,
  MechanicRequestSchema,
  type SessionRequest,
  SessionRequestSchema,
} from './session-request.js';

// The relayed WebSocket frames of CONTRACT §4, as clients receive them. Each is rendered from
// one delivery of a lifecycle event (`renderFrame`) and carries the event's id and time.

const base = {
  /**
   * Unique per event and audience: a client drops a frame whose id it has already seen. The
   * event's id, but for `offer_expired` (`<event id>:offer_expired`, see renderFrame).
   */
  id: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
};

export const PriorityOfferSchema = z.object({
  ...base,
  type: z.literal('priority_session_request'),
  request: MechanicRequestSchema,
  target_mechanic_id: z.uuid(),
  priority_window_minutes: z.number().int(),
  expires_at: z.iso.datetime({ offset: true }),
  message: z.string(),
  /** Which tier of the request this offer is (CONTRACT §6): 1 for a single preferred mechanic. */
  tier: z.number().int().min(1),
});
export const NewRequestSchema = z.object({
  ...base,
  type: z.literal('new_request'),
  request: MechanicRequestSchema,
  routing_type: z.literal('broadcast'),
  fallback_reason: FallbackReasonSchema.nullable(),
});
export const RequestTakenSchema = z.object({ ...base, type: z.literal('request_taken'), request_id: z.uuid() });
export const RequestCancelledSchema = z.object({ ...base, type: z.literal('request_cancelled'), request_id: z.uuid() });
/** The mechanic's tier of a sequence ended unanswered: the offer is gone (CONTRACT §6). */
export const OfferExpiredSchema = z.object({ ...base, type: z.literal('offer_expired'), request_id: z.uuid() });
export const RequestUpdateSchema = z.object({
  ...base,
  type: z.literal('request_update'),
  request: SessionRequestSchema,
});

/** A relayed notification frame (CONTRACT §4). */
export const NotificationSchema = z.discriminatedUnion('type', [
  PriorityOfferSchema,
  NewRequestSchema,
  RequestTakenSchema,
  RequestCancelledSchema,
  OfferExpiredSchema,
  RequestUpdateSchema,
]);
export type Notification = z.infer<typeof NotificationSchema>;
export type NotificationType = Notification['type'];

/** The seed's priority message, word for word. */
export function priorityMessage(customerName: string | null, minutes: number): string {
  return `${customerName ?? 'A customer'} specifically requested you! You have ${minutes} minutes priority access.`;
}

/**
 * A session request as a mechanic may see it (CONTRACT §4): without the customer's email, which
 * only the customer's own frames (and the winner's accept result) carry.
 */
export function mechanicView(request: SessionRequest): MechanicRequest {
  const { customer_email: _hidden, ...visible } = request;
  return visible;
}

/** The frame one delivery of `event` becomes: the event's id and time, the request in the audience's view. */
export function renderFrame(
  event: Pick<RequestEvent, 'id' | 'occurred_at' | 'request'>,
  delivery: Delivery,
): Notification {
  const head = { id: event.id, at: event.occurred_at };
  switch (delivery.type) {
    case 'priority_session_request':
      return {
        ...head,
        type: delivery.type,
        request: mechanicView(event.request),
        target_mechanic_id: delivery.mechanic_id,
        priority_window_minutes: delivery.priority_window_minutes,
        expires_at: delivery.expires_at,
        message: delivery.message,
        tier: delivery.tier,
      };
    case 'new_request':
      return {
        ...head,
        type: delivery.type,
        request: mechanicView(event.request),
        routing_type: 'broadcast',
        fallback_reason: delivery.fallback_reason,
      };
    case 'request_taken':
    case 'request_cancelled':
      return { ...head, type: delivery.type, request_id: event.request.id };
    case 'offer_expired':
      // The one frame that may reach a mechanic beside another of the same event: the broadcast
      // after a sequence's last tier tells its mechanic both that the offer expired and that
      // everyone may take the request now. Its own id keeps the two apart for whoever drops
      // repeats by id (the gateway, clients); derived from the event's, so it is as stable.
      return { ...head, id: `${event.id}:offer_expired`, type: delivery.type, request_id: event.request.id };
    case 'request_update':
      return { ...head, type: delivery.type, request: event.request };
  }
}
