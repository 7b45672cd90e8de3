import type { RequestStatus, RoutingType, SessionRequest } from '@dibs/contracts';
import {
  newSessionRequestRecord,
  type OutboxEntry,
  pgCode,
  requestEvent,
  SESSION_REQUEST_COLUMNS,
  type SessionRequestRecord,
  type Sql,
  toSessionRequest,
} from '@dibs/db';
import type { Cursor } from '../domain/cursor.js';
import { bookingStatement, type StoredBooking, sequenceBookingStatement } from './booking-statements.js';
import type { Directory } from './directory.js';

export interface NewSessionRequest {
  customerId: string;
  sessionType: string;
  planCode: string;
  routingType: RoutingType;
  preferredMechanicId: string | null;
  preferredWorkshopId: string | null;
  priorityWindowMinutes: number;
  idempotencyKey: string | null;
  requestHash: string;
}

export type CreateOutcome =
  | { kind: 'created'; request: SessionRequest }
  | { kind: 'replayed'; request: SessionRequest }
  | { kind: 'key_reused' }
  | { kind: 'unknown_customer' }
  /** A `priority_sequence` booking by a customer without a ranked favorite: nothing was written. */
  | { kind: 'no_ranked_favorites' };

/**
 * The request and its `created` event (same id) as the booking statement stored them: it decides
 * the window, the experiment arm and a sequence's preferred mechanic from the settings, the active
 * experiment and the ranks in force.
 */
function asStored(
  request: SessionRequest,
  event: OutboxEntry,
  stored: StoredBooking,
): { request: SessionRequest; event: OutboxEntry } {
  const experiment =
    stored.experiment_key !== null && stored.experiment_arm !== null
      ? { key: stored.experiment_key, arm: stored.experiment_arm }
      : null;
  if (
    stored.preferred_mechanic_id === request.preferred_mechanic_id &&
    stored.priority_window_minutes === request.priority_window_minutes &&
    experiment === null
  ) {
    return { request, event };
  }
  const patched = {
    ...request,
    preferred_mechanic_id: stored.preferred_mechanic_id,
    priority_window_minutes: stored.priority_window_minutes,
    experiment,
  };
  return { request: patched, event: { ...event, payload: { ...(event.payload as object), request: patched } } };
}

/**
 * Called with a booking's outbox event once it is committed (the outbox's fast path). A booking is
 * one statement, committed on its own: a `unitOfWork` (and its `afterCommit`) would only add the
 * BEGIN and COMMIT round trips the statement was written to avoid.
 */
export type OnCommitted = (entries: OutboxEntry[]) => void;

/**
 * Session requests as intake writes and reads them (routing owns every later change): SQL through
 * the ORM's pool (`sqlOf(orm.em)`), the hot statements prepared once per connection
 * (docs/decisions/011-capacity.md).
 */
export function createSessionRequestsRepository(sql: Sql, directory: Directory, onCommitted: OnCommitted = () => {}) {
  /** The customer's request booked with Idempotency-Key `key`, and the fingerprint of its body. */
  async function byKey(customerId: string, key: string) {
    const { rows } = await sql.query<SessionRequestRecord & { request_hash: string }>({
      name: 'intake-request-by-key',
      text: `select ${SESSION_REQUEST_COLUMNS}, request_hash from session_requests
             where customer_id = $1 and idempotency_key = $2`,
      values: [customerId, key],
    });
    return rows[0];
  }

  async function insertOnce(input: NewSessionRequest): Promise<CreateOutcome> {
    const customer = await directory.customer(input.customerId);
    if (!customer) return { kind: 'unknown_customer' };
    // A sequence's preferred mechanic is its rank-1 favorite, which the statement itself finds.
    const sequence = input.routingType === 'priority_sequence';
    // An unknown preferred mechanic is stored as NULL (the FK allows nothing else) while the
    // routing type still says what the customer asked for: routing then reports priority_failed.
    const preferred =
      !sequence && input.preferredMechanicId && (await directory.mechanicExists(input.preferredMechanicId))
        ? input.preferredMechanicId
        : null;
    const record = newSessionRequestRecord({
      customer_id: input.customerId,
      customer_name: customer.name,
      customer_email: customer.email,
      session_type: input.sessionType,
      plan_code: input.planCode,
      routing_type: input.routingType,
      preferred_mechanic_id: preferred,
      preferred_workshop_id: input.preferredWorkshopId,
      priority_window_minutes: input.priorityWindowMinutes,
      created_at: new Date(),
    });
    const request = toSessionRequest(record);
    const event = requestEvent('created', request, { at: record.created_at });
    const idempotency = { key: input.idempotencyKey, hash: input.requestHash };
    const { rows } = await sql.query<StoredBooking>(
      sequence ? sequenceBookingStatement(record, idempotency, event) : bookingStatement(record, idempotency, event),
    );
    const stored = rows[0];
    if (stored) {
      const created = asStored(request, event, stored);
      onCommitted([created.event]);
      return { kind: 'created', request: created.request };
    }
    // Nothing inserted: the key was used before by this customer (same body → the first result,
    // else 422), or a sequence found no ranked favorite. The key is looked at first, so a replay
    // answers as the first booking did whatever the ranks are now.
    const first = input.idempotencyKey === null ? undefined : await byKey(input.customerId, input.idempotencyKey);
    if (!first) {
      if (sequence) return { kind: 'no_ranked_favorites' };
      throw new Error('idempotent insert conflicted but no row holds the key');
    }
    if (first.request_hash !== input.requestHash) return { kind: 'key_reused' };
    return { kind: 'replayed', request: toSessionRequest(first) };
  }

  return {
    /** Stores a new request and its `request.created` event atomically (outbox). */
    async create(input: NewSessionRequest): Promise<CreateOutcome> {
      try {
        return await insertOnce(input);
      } catch (err) {
        // A sequence's rank-1 mechanic was deleted while the statement ran: plan again, once.
        if (pgCode(err) === '23503' && input.routingType === 'priority_sequence') return insertOnce(input);
        // The preferred mechanic was deleted since the directory saw it: look again, once.
        if (pgCode(err) === '23503' && input.preferredMechanicId) {
          directory.forgetMechanic(input.preferredMechanicId);
          return insertOnce(input);
        }
        throw err;
      }
    },
    async get(id: string): Promise<SessionRequest | undefined> {
      const { rows } = await sql.query<SessionRequestRecord>({
        name: 'intake-request-by-id',
        text: `select ${SESSION_REQUEST_COLUMNS} from session_requests where id = $1`,
        values: [id],
      });
      return rows[0] ? toSessionRequest(rows[0]) : undefined;
    },
    /** The customer's requests, newest first, `limit` after `cursor`. */
    async list(
      customerId: string,
      opts: { status?: RequestStatus | undefined; limit: number; after?: Cursor | undefined },
    ): Promise<SessionRequest[]> {
      const params: unknown[] = [customerId];
      const where = ['customer_id = $1'];
      if (opts.status) {
        params.push(opts.status);
        where.push(`status = $${params.length}`);
      }
      if (opts.after) {
        params.push(opts.after.createdAt, opts.after.id);
        where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      params.push(opts.limit);
      const { rows } = await sql.query<SessionRequestRecord>(
        `select ${SESSION_REQUEST_COLUMNS} from session_requests where ${where.join(' and ')}
         order by created_at desc, id desc limit $${params.length}`,
        params,
      );
      return rows.map(toSessionRequest);
    },
  };
}
export type SessionRequestsRepository = ReturnType<typeof createSessionRequestsRepository>;
