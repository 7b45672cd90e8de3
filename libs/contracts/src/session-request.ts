import { z } from 'zod';

export const REQUEST_STATUSES = ['pending', 'accepted', 'cancelled'] as const;
export const ROUTING_TYPES = ['broadcast', 'priority_broadcast', 'priority_sequence'] as const;
export const FALLBACK_REASONS = [
  'priority_timeout',
  'priority_declined',
  'priority_failed',
  'flag_disabled',
  'priority_unavailable',
] as const;
/** How one tier's offer ended (CONTRACT §6); null while it is open. */
export const OFFER_OUTCOMES = [
  'accepted',
  'declined',
  'timeout',
  'skipped_unavailable',
  'skipped_not_approved',
  'withdrawn',
] as const;
export const MECHANIC_STATUSES = ['pending', 'approved', 'suspended'] as const;
export const ROLES = ['customer', 'mechanic', 'admin'] as const;

export const RequestStatusSchema = z.enum(REQUEST_STATUSES);
export const RoutingTypeSchema = z.enum(ROUTING_TYPES);
export const FallbackReasonSchema = z.enum(FALLBACK_REASONS);
export const MechanicStatusSchema = z.enum(MECHANIC_STATUSES);
export const RoleSchema = z.enum(ROLES);
export const OfferOutcomeSchema = z.enum(OFFER_OUTCOMES);
export type RequestStatus = z.infer<typeof RequestStatusSchema>;
export type RoutingType = z.infer<typeof RoutingTypeSchema>;
export type FallbackReason = z.infer<typeof FallbackReasonSchema>;
export type MechanicStatus = z.infer<typeof MechanicStatusSchema>;
export type Role = z.infer<typeof RoleSchema>;
export type OfferOutcome = z.infer<typeof OfferOutcomeSchema>;

const timestamp = z.iso.datetime({ offset: true });

// The instants of a request: ISO-8601 strings in the contract, `timestamptz` columns in the table.
const instants = {
  priority_notified_at: timestamp.nullable(),
  priority_expires_at: timestamp.nullable(),
  broadcast_at: timestamp.nullable(),
  accepted_at: timestamp.nullable(),
  cancelled_at: timestamp.nullable(),
  created_at: timestamp,
};
export type SessionRequestInstant = keyof typeof instants;
export const SESSION_REQUEST_INSTANTS = Object.keys(instants) as SessionRequestInstant[];

/**
 * One tier of a priority request (CONTRACT §6): who was offered it (or skipped), when, until when,
 * and how it ended. A skipped tier was never offered: its instants are null.
 */
export const OfferSchema = z.object({
  mechanic_id: z.uuid(),
  tier: z.number().int().min(1),
  offered_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
  outcome: OfferOutcomeSchema.nullable(),
});
export type Offer = z.infer<typeof OfferSchema>;

/** The experiment arm a request was enrolled in at creation (CONTRACT §7); it never changes. */
export const RequestExperimentSchema = z.object({ key: z.string(), arm: z.string() });
export type RequestExperiment = z.infer<typeof RequestExperimentSchema>;

/**
 * The fields of a request that are not columns of `session_requests` as they are: `offers` comes
 * from `session_request_offers` (or, for a single preferred mechanic, from the request's own
 * window), `current_tier` from the open offer, `experiment` from `experiment_key` and
 * `experiment_arm`. Events written before issues 12 and 13 lack them: they default.
 */
const derived = {
  offers: z.array(OfferSchema).default([]),
  current_tier: z.number().int().min(1).nullable().default(null),
  experiment: RequestExperimentSchema.nullable().default(null),
};
export type SessionRequestDerivedField = keyof typeof derived;
export const SESSION_REQUEST_DERIVED_FIELDS = Object.keys(derived) as SessionRequestDerivedField[];

/**
 * A session request as clients see it (CONTRACT §3), also the `request` inside events and frames.
 * The one description of a request: the table's column list, the row type and the row → contract
 * mapping (`@dibs/db` session-request.ts) derive from it; its fields are the table's column names,
 * but for the derived ones (`offers`, `current_tier`).
 */
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
  priority_notified_at: instants.priority_notified_at,
  priority_expires_at: instants.priority_expires_at,
  broadcast_at: instants.broadcast_at,
  fallback_reason: FallbackReasonSchema.nullable(),
  mechanic_id: z.uuid().nullable(),
  accepted_at: instants.accepted_at,
  cancelled_at: instants.cancelled_at,
  created_at: instants.created_at,
  ...derived,
});
export type SessionRequest = z.infer<typeof SessionRequestSchema>;

/** A session request as a mechanic sees it in offers and snapshots (CONTRACT §4): no customer email. */
export const MechanicRequestSchema = SessionRequestSchema.omit({ customer_email: true });
export type MechanicRequest = z.infer<typeof MechanicRequestSchema>;
