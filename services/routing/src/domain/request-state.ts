import type { MechanicStatus, RequestStatus, RoutingType } from '@dibs/contracts';

/** What routing's decisions read of a session request; instants are epoch milliseconds. */
export interface RequestState {
  id: string;
  customer_id: string;
  status: RequestStatus;
  routing_type: RoutingType;
  preferred_mechanic_id: string | null;
  preferred_workshop_id: string | null;
  priority_window_minutes: number;
  priority_notified_at: number | null;
  priority_expires_at: number | null;
  broadcast_at: number | null;
  mechanic_id: string | null;
}

/** A mechanic as the decisions see it. */
export interface MechanicState {
  id: string;
  status: MechanicStatus;
}

/**
 * The end of a request's priority window, or null when no window was opened. The stored
 * `priority_expires_at` wins: it was computed with the PRIORITY_MINUTE_MS in force when the window
 * opened, which a later restart with another value must not stretch or shorten.
 */
export function windowDeadline(request: RequestState, minuteMs: number): number | null {
  if (request.priority_notified_at === null) return null;
  return request.priority_expires_at ?? request.priority_notified_at + request.priority_window_minutes * minuteMs;
}
