import { z } from 'zod';

export const REQUEST_STATUSES = ['pending', 'accepted', 'cancelled'] as const;
export const ROUTING_TYPES = ['broadcast', 'priority_broadcast'] as const;
export const FALLBACK_REASONS = ['priority_timeout', 'priority_declined', 'priority_failed', 'flag_disabled'] as const;
export const MECHANIC_STATUSES = ['pending', 'approved', 'suspended'] as const;
export const ROLES = ['customer', 'mechanic', 'admin'] as const;

export const RequestStatusSchema = z.enum(REQUEST_STATUSES);
export const RoutingTypeSchema = z.enum(ROUTING_TYPES);
export const FallbackReasonSchema = z.enum(FALLBACK_REASONS);
export const MechanicStatusSchema = z.enum(MECHANIC_STATUSES);
export const RoleSchema = z.enum(ROLES);
export type RequestStatus = z.infer<typeof RequestStatusSchema>;
export type RoutingType = z.infer<typeof RoutingTypeSchema>;
export type FallbackReason = z.infer<typeof FallbackReasonSchema>;
export type MechanicStatus = z.infer<typeof MechanicStatusSchema>;
export type Role = z.infer<typeof RoleSchema>;

const timestamp = z.iso.datetime({ offset: true });

/** A session request as clients see it (CONTRACT §3), also the `request` inside events and frames. */
export const SessionRequestSchema = z.object({
  id: z.uuid(),
  customer_id: z.uuid(),
  customer_name: z.string().nullable(),
  customer_email: z.string().nullable(),
  session_type: z.string(),
  plan_code: z.string(),
  status: RequestStatusSchema,
  routing_type: RoutingTypeSchema,
  preferred_mechanic_id: z.uuid().nullable(),
  preferred_workshop_id: z.uuid().nullable(),
  priority_window_minutes: z.number().int(),
  priority_notified_at: timestamp.nullable(),
  priority_expires_at: timestamp.nullable(),
  broadcast_at: timestamp.nullable(),
  fallback_reason: FallbackReasonSchema.nullable(),
  mechanic_id: z.uuid().nullable(),
  accepted_at: timestamp.nullable(),
  cancelled_at: timestamp.nullable(),
  created_at: timestamp,
});
export type SessionRequest = z.infer<typeof SessionRequestSchema>;

/** A session request as a mechanic sees it in offers and snapshots (CONTRACT §4): no customer email. */
export const MechanicRequestSchema = SessionRequestSchema.omit({ customer_email: true });
export type MechanicRequest = z.infer<typeof MechanicRequestSchema>;
