import { z } from 'zod';
import { FallbackReasonSchema, SessionRequestSchema } from './session-request.js';

const base = {
  /** Unique per event: a client drops a frame whose id it has already seen. */
  id: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
};

export const PriorityOfferSchema = z.object({
  ...base,
  type: z.literal('priority_session_request'),
  request: SessionRequestSchema,
  target_mechanic_id: z.uuid(),
  priority_window_minutes: z.number().int(),
  expires_at: z.iso.datetime({ offset: true }),
  message: z.string(),
});
export const NewRequestSchema = z.object({
  ...base,
  type: z.literal('new_request'),
  request: SessionRequestSchema,
  routing_type: z.literal('broadcast'),
  fallback_reason: FallbackReasonSchema.nullable(),
  /**
   * Mechanics who declined the request: the gateway must not offer it to them and strips this
   * field before sending the frame (it is routing → gateway only, not part of CONTRACT §4).
   */
  exclude_mechanic_ids: z.array(z.uuid()).optional(),
});
export const RequestTakenSchema = z.object({ ...base, type: z.literal('request_taken'), request_id: z.uuid() });
export const RequestCancelledSchema = z.object({ ...base, type: z.literal('request_cancelled'), request_id: z.uuid() });
export const RequestUpdateSchema = z.object({
  ...base,
  type: z.literal('request_update'),
  request: SessionRequestSchema,
});

/** A notification as published on `notify.*` and relayed, unchanged, as a WebSocket frame (CONTRACT §4). */
export const NotificationSchema = z.discriminatedUnion('type', [
  PriorityOfferSchema,
  NewRequestSchema,
  RequestTakenSchema,
  RequestCancelledSchema,
  RequestUpdateSchema,
]);
export type Notification = z.infer<typeof NotificationSchema>;
export type NotificationType = Notification['type'];

/** The seed's priority message, word for word. */
export function priorityMessage(customerName: string | null, minutes: number): string {
  return `${customerName ?? 'A customer'} specifically requested you! You have ${minutes} minutes priority access.`;
}
