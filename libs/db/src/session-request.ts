import { randomUUID } from 'node:crypto';
import {
  type Offer,
  type OfferOutcome,
  SESSION_REQUEST_DERIVED_FIELDS,
  SESSION_REQUEST_INSTANTS,
  type SessionRequest,
  type SessionRequestDerivedField,
  type SessionRequestInstant,
  SessionRequestSchema,
} from '@dibs/contracts';

type Timestamp = Date | string | null | undefined;

type ColumnField = Exclude<keyof SessionRequest, SessionRequestDerivedField>;

/** An offer as `session_request_offers` stores it, read through `jsonb` (instants as text). */
export interface StoredOffer {
  mechanic_id: string;
  tier: number;
  offered_at: Timestamp;
  expires_at: Timestamp;
  outcome: OfferOutcome | null;
}

/**
 * A `session_requests` row as read by SQL: the contract's fields (`SessionRequestSchema`, the one
 * description of a request), its instants as the driver hands them over (`timestamptz` arrives as
 * text through MikroORM's pool, as a `Date` through plain `pg`), and the stored offers of a
 * sequence when the query selected them (`sessionRequestColumns`).
 */
export type SessionRequestRecord = {
  [K in ColumnField]: K extends SessionRequestInstant ? Timestamp : SessionRequest[K];
} & {
  offers?: StoredOffer[] | null;
  /** The experiment arm the request was enrolled in at creation (CONTRACT §7), both or neither. */
  experiment_key?: string | null;
  experiment_arm?: string | null;
};

const DERIVED: ReadonlySet<string> = new Set(SESSION_REQUEST_DERIVED_FIELDS);

/** The contract's fields that are columns, in its order: they are the table's column names. */
export const SESSION_REQUEST_FIELDS = (Object.keys(SessionRequestSchema.shape) as (keyof SessionRequest)[]).filter(
  (f): f is ColumnField => !DERIVED.has(f),
);

/**
 * A request's stored offers as one `jsonb` array in tier order, for the row aliased `alias`. Only
 * tiers that were reached show (offered, or skipped); the tiers still to come are in the plan.
 */
function offersSql(alias: string): string {
  return `(select jsonb_agg(jsonb_build_object('mechanic_id', o.mechanic_id, 'tier', o.tier,
      'offered_at', o.offered_at, 'expires_at', o.expires_at, 'outcome', o.outcome) order by o.tier)
    from session_request_offers o where o.request_id = ${alias}.id) as offers`;
}

/**
 * What raw SQL `select`s (or `returning`s) for a request as the contract shows it, from the row
 * aliased `alias`: the columns and the stored offers. In a `returning`, the offers are those as
 * they were before the statement: a change of offers reads the row again.
 */
export function sessionRequestColumns(alias = 'session_requests'): string {
  return [
    ...SESSION_REQUEST_FIELDS.map((f) => `${alias}.${f}`),
    `${alias}.experiment_key`,
    `${alias}.experiment_arm`,
    offersSql(alias),
  ].join(', ');
}

/** `sessionRequestColumns()` for the table under its own name. */
export const SESSION_REQUEST_COLUMNS = sessionRequestColumns();

const INSTANTS: ReadonlySet<string> = new Set(SESSION_REQUEST_INSTANTS);

/**
 * Maps a row to the public shape: ISO-8601 UTC instants, `priority_window_minutes` a number, nulls
 * kept, and the offers with the tier open now.
 */
export function toSessionRequest(row: SessionRequestRecord): SessionRequest {
  const out: Record<string, unknown> = {};
  for (const field of SESSION_REQUEST_FIELDS) {
    const value = row[field];
    if (INSTANTS.has(field)) out[field] = iso(value as Timestamp);
    else if (field === 'priority_window_minutes') out[field] = Number(value);
    else out[field] = value ?? null;
  }
  const offers = requestOffers(row);
  out.offers = offers;
  out.current_tier = offers.find((o) => o.outcome === null && o.offered_at !== null)?.tier ?? null;
  out.experiment =
    row.experiment_key && row.experiment_arm ? { key: row.experiment_key, arm: row.experiment_arm } : null;
  return out as SessionRequest;
}

/**
 * A request's offers (CONTRACT §6). A sequence's are stored, one row per tier reached. A request
 * with one preferred mechanic keeps its window in its own columns (the seed's), so its one offer
 * is read from them: offered at `priority_notified_at` until `priority_expires_at`, ended as the
 * request's state says; skipped when routing found the mechanic unavailable.
 */
export function requestOffers(row: SessionRequestRecord): Offer[] {
  if (row.routing_type === 'priority_sequence') {
    return (row.offers ?? []).map((o) => ({
      mechanic_id: o.mechanic_id,
      tier: Number(o.tier),
      offered_at: iso(o.offered_at),
      expires_at: iso(o.expires_at),
      outcome: o.outcome ?? null,
    }));
  }
  const preferred = row.preferred_mechanic_id;
  if (row.routing_type !== 'priority_broadcast' || preferred === null || row.preferred_workshop_id !== null) return [];
  if (row.fallback_reason === 'priority_unavailable') {
    return [{ mechanic_id: preferred, tier: 1, offered_at: null, expires_at: null, outcome: 'skipped_unavailable' }];
  }
  if (row.priority_notified_at === null || row.priority_notified_at === undefined) return [];
  return [
    {
      mechanic_id: preferred,
      tier: 1,
      offered_at: iso(row.priority_notified_at),
      expires_at: iso(row.priority_expires_at),
      outcome: singleOutcome(row, preferred),
    },
  ];
}

/** How a single preferred mechanic's window ended, from the request's state; null while open. */
function singleOutcome(row: SessionRequestRecord, preferred: string): OfferOutcome | null {
  if (row.broadcast_at !== null && row.broadcast_at !== undefined) {
    return row.fallback_reason === 'priority_declined' ? 'declined' : 'timeout';
  }
  if (row.status === 'accepted') return row.mechanic_id === preferred ? 'accepted' : 'timeout';
  if (row.status === 'cancelled') return 'withdrawn';
  return null;
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
