import { randomUUID } from 'node:crypto';
import {
  SESSION_REQUEST_INSTANTS,
  type SessionRequest,
  type SessionRequestInstant,
  SessionRequestSchema,
} from '@dibs/contracts';

type Timestamp = Date | string | null | undefined;

/**
 * A `session_requests` row as read by SQL: the contract's fields (`SessionRequestSchema`, the one
 * description of a request), its instants as the driver hands them over (`timestamptz` arrives as
 * text through MikroORM's pool, as a `Date` through plain `pg`).
 */
export type SessionRequestRecord = {
  [K in keyof SessionRequest]: K extends SessionRequestInstant ? Timestamp : SessionRequest[K];
};

/** The contract's fields, in its order: they are the table's column names. */
export const SESSION_REQUEST_FIELDS = Object.keys(SessionRequestSchema.shape) as (keyof SessionRequest)[];

/** The columns of a session request as the contract shows it, for raw SQL `select`/`returning`. */
export const SESSION_REQUEST_COLUMNS = SESSION_REQUEST_FIELDS.join(', ');

const INSTANTS: ReadonlySet<string> = new Set(SESSION_REQUEST_INSTANTS);

/** Maps a row to the public shape: ISO-8601 UTC instants, `priority_window_minutes` a number, nulls kept. */
export function toSessionRequest(row: SessionRequestRecord): SessionRequest {
  const out: Record<string, unknown> = {};
  for (const field of SESSION_REQUEST_FIELDS) {
    const value = row[field];
    if (INSTANTS.has(field)) out[field] = iso(value as Timestamp);
    else if (field === 'priority_window_minutes') out[field] = Number(value);
    else out[field] = value ?? null;
  }
  return out as SessionRequest;
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

/** A just-booked request row: pending, nothing routed, offered or accepted yet (every other field null). */
export function newSessionRequestRecord(fields: NewRequestFields): SessionRequestRecord & { created_at: Date } {
  return { ...EMPTY_REQUEST, id: fields.id ?? randomUUID(), ...fields, status: 'pending' };
}

// Built once: every booking copies it (it showed in intake's profile when built per booking).
const EMPTY_REQUEST = Object.freeze(
  Object.fromEntries(SESSION_REQUEST_FIELDS.map((field) => [field, null])),
) as unknown as SessionRequestRecord;
