import { createHash } from 'node:crypto';
import type { RoutingType } from '@dibs/contracts';

export interface BookingInput {
  session_type: string;
  plan_code: string;
  preferred_mechanic_id?: string | null | undefined;
  routing_type?: RoutingType | undefined;
  preferred_workshop_id?: string | null | undefined;
}

export type BookingPlan =
  | { ok: true; routingType: RoutingType; preferredMechanicId: string | null; preferredWorkshopId: string | null }
  | { ok: false; field: string; message: string };

/**
 * What the customer asked for. A preferred mechanic implies `priority_broadcast` unless the
 * customer said `broadcast`; `priority_broadcast` without a preferred mechanic is meaningless.
 * `priority_sequence` offers the request to the customer's ranked favorites (CONTRACT §6): a
 * preferred mechanic given with it is ignored (the rank-1 favorite becomes it when booked), and a
 * workshop is refused, since a workshop booking never uses favorites.
 * Whether a window really happens is routing's decision (flag, workshop, mechanic status).
 */
export function planBooking(input: BookingInput): BookingPlan {
  const preferredMechanicId = input.preferred_mechanic_id ?? null;
  const preferredWorkshopId = input.preferred_workshop_id ?? null;
  const routingType: RoutingType = input.routing_type ?? (preferredMechanicId ? 'priority_broadcast' : 'broadcast');
  if (routingType === 'priority_broadcast' && !preferredMechanicId) {
    return {
      ok: false,
      field: 'preferred_mechanic_id',
      message: 'is required when routing_type is priority_broadcast',
    };
  }
  if (routingType === 'priority_sequence') {
    if (preferredWorkshopId) {
      return {
        ok: false,
        field: 'preferred_workshop_id',
        message: 'cannot be given when routing_type is priority_sequence (a workshop booking never uses favorites)',
      };
    }
    return { ok: true, routingType, preferredMechanicId: null, preferredWorkshopId: null };
  }
  return { ok: true, routingType, preferredMechanicId, preferredWorkshopId };
}

/** Fingerprint of a booking body for Idempotency-Key: same key + same body → same request. */
export function bookingHash(input: BookingInput): string {
  const canonical = {
    session_type: input.session_type,
    plan_code: input.plan_code,
    preferred_mechanic_id: input.preferred_mechanic_id ?? null,
    routing_type: input.routing_type ?? null,
    preferred_workshop_id: input.preferred_workshop_id ?? null,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
