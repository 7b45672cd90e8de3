import { randomUUID } from 'node:crypto';
import type { FallbackReason, RequestStatus, RoutingType, SessionRequest } from '@dibs/contracts';

/** The columns of a session request as the contract shows it, for raw SQL `select`/`returning`. */
export const SESSION_REQUEST_COLUMNS = `id, customer_id, customer_name, customer_email, session_type, plan_code, status,
  routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes, priority_notified_at,
  priority_expires_at, broadcast_at, fallback_reason, mechanic_id, accepted_at, cancelled_at, created_at`;

type Timestamp = Date | string | null | undefined;

/** A `session_requests` row as read by raw SQL or the ORM. */
export interface SessionRequestRecord {
  id: string;
  customer_id: string;
  customer_name: string | null;
  customer_email: string | null;
  session_type: string;
  plan_code: string;
  status: string;
  routing_type: string;
  preferred_mechanic_id: string | null;
  preferred_workshop_id: string | null;
  priority_window_minutes: number;
  priority_notified_at: Timestamp;
  priority_expires_at: Timestamp;
  broadcast_at: Timestamp;
  fallback_reason: string | null;
  mechanic_id: string | null;
  accepted_at: Timestamp;
  cancelled_at: Timestamp;
  created_at: Timestamp;
}

/** Maps a row to the public shape: ISO-8601 UTC timestamps, nulls kept. */
export function toSessionRequest(row: SessionRequestRecord): SessionRequest {
  return {
    id: row.id,
    customer_id: row.customer_id,
    customer_name: row.customer_name ?? null,
    customer_email: row.customer_email ?? null,
    session_type: row.session_type,
    plan_code: row.plan_code,
    status: row.status as RequestStatus,
    routing_type: row.routing_type as RoutingType,
    preferred_mechanic_id: row.preferred_mechanic_id ?? null,
    preferred_workshop_id: row.preferred_workshop_id ?? null,
    priority_window_minutes: Number(row.priority_window_minutes),
    priority_notified_at: iso(row.priority_notified_at),
    priority_expires_at: iso(row.priority_expires_at),
    broadcast_at: iso(row.broadcast_at),
    fallback_reason: (row.fallback_reason ?? null) as FallbackReason | null,
    mechanic_id: row.mechanic_id ?? null,
    accepted_at: iso(row.accepted_at),
    cancelled_at: iso(row.cancelled_at),
    created_at: iso(row.created_at) as string,
  };
}

/** ISO-8601 UTC string of a timestamp, or null. */
export function iso(value: Timestamp): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** What a booking decides; everything else of a new request starts empty. */
export type NewRequestFields = Pick<
  SessionRequestRecord,
  'customer_id' | 'customer_name' | 'session_type' | 'plan_code' | 'routing_type' | 'priority_window_minutes'
> &
  Partial<Pick<SessionRequestRecord, 'id' | 'customer_email' | 'preferred_mechanic_id' | 'preferred_workshop_id'>> & {
    created_at: Date;
  };

/** A just-booked request row: pending, nothing routed, offered or accepted yet. */
export function newSessionRequestRecord(fields: NewRequestFields): SessionRequestRecord & { created_at: Date } {
  return {
    id: fields.id ?? randomUUID(),
    customer_email: null,
    preferred_mechanic_id: null,
    preferred_workshop_id: null,
    ...fields,
    status: 'pending',
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
  };
}
