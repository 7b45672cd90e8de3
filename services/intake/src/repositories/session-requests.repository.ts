import type { RequestStatus, RoutingType, SessionRequest } from '@dibs/contracts';
import {
  newSessionRequestRecord,
  type OutboxEntry,
  payloadJson,
  pgCode,
  requestEvent,
  SESSION_REQUEST_COLUMNS,
  type SessionRequestRecord,
  type Sql,
  type Statement,
  toSessionRequest,
} from '@dibs/db';
import type { Cursor } from '../domain/cursor.js';
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
  | { kind: 'unknown_customer' };

/**
 * A booking in one atomic statement: the request row and its `request.created` row in intake's
 * outbox (no BEGIN/COMMIT round trips), inserted only when the customer has not used the
 * Idempotency-Key. It also decides the request's window from the settings as they are at this
 * instant (CONTRACT §6): the preferred mechanic's own window, else `priority_settings`' default,
 * else `$10` (PRIORITY_WINDOW_MINUTES). The event was serialized before the window was known, so
 * when it differs the outbox row gets it patched in (`jsonb_set`); the statement returns the window
 * stored, and the caller patches its own copy of the event alike.
 */
const INSERT_BOOKING_SQL = `with w as (
         select coalesce(
           (select m.priority_window_minutes from mechanics m where m.id = $8::uuid),
           (select s.default_window_minutes from priority_settings s),
           $10::integer) as minutes),
       sr as (
         insert into session_requests (id, customer_id, customer_name, customer_email, session_type, plan_code,
           status, routing_type, preferred_mechanic_id, preferred_workshop_id, priority_window_minutes,
           idempotency_key, request_hash, created_at, updated_at)
         select $1::uuid, $2::uuid, $3::text, $4::text, $5::text, $6::text, 'pending', $7::text, $8::uuid, $9::uuid,
           w.minutes, $11::text, $12::text, $13::timestamptz, $13::timestamptz
         from w
         on conflict (customer_id, idempotency_key) do nothing
         returning id, priority_window_minutes),
       queued as (
         insert into intake_outbox (id, subject, payload)
         select $14, $15, case when sr.priority_window_minutes = $10::integer then $16::jsonb
           else jsonb_set($16::jsonb, '{request,priority_window_minutes}', to_jsonb(sr.priority_window_minutes)) end
         from sr
         returning id)
       select sr.priority_window_minutes from sr, queued`;

/**
 * A named statement with its values as a plain array: `sqlOf(…).query` runs it, and so does a bare
 * `pg` pool (bench:intake's baseline route runs the very statement intake runs).
 */
export type BookingStatement = Statement & { name: string; values: unknown[] };

/**
 * The booking statement for `record`, its idempotency fields and its `created` event. A named
 * statement: each connection parses and plans it once (the hottest statement of intake).
 */
export function bookingStatement(
  record: SessionRequestRecord & { created_at: Date },
  idempotency: { key: string | null; hash: string },
  event: OutboxEntry,
): BookingStatement {
  return {
    name: 'intake-book',
    text: INSERT_BOOKING_SQL,
    values: [
      record.id,
      record.customer_id,
      record.customer_name,
      record.customer_email,
      record.session_type,
      record.plan_code,
      record.routing_type,
      record.preferred_mechanic_id,
      record.preferred_workshop_id,
      record.priority_window_minutes,
      idempotency.key,
      idempotency.hash,
      record.created_at,
      event.id,
      event.subject,
      payloadJson(event),
    ],
  };
}

/** The request and its `created` event (same id) with the window the booking statement stored. */
function withWindow(
  request: SessionRequest,
  event: OutboxEntry,
  minutes: number,
): { request: SessionRequest; event: OutboxEntry } {
  const stored = { ...request, priority_window_minutes: minutes };
  return { request: stored, event: { ...event, payload: { ...(event.payload as object), request: stored } } };
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
  async function insertOnce(input: NewSessionRequest): Promise<CreateOutcome> {
    const customer = await directory.customer(input.customerId);
    if (!customer) return { kind: 'unknown_customer' };
    // An unknown preferred mechanic is stored as NULL (the FK allows nothing else) while the
    // routing type still says what the customer asked for: routing then reports priority_failed.
    const preferred =
      input.preferredMechanicId && (await directory.mechanicExists(input.preferredMechanicId))
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
    const { rows: stored } = await sql.query<{ priority_window_minutes: number }>(
      bookingStatement(record, { key: input.idempotencyKey, hash: input.requestHash }, event),
    );
    const window = stored[0]?.priority_window_minutes;
    if (window !== undefined) {
      // The statement decided the window from the settings in force (see INSERT_BOOKING_SQL).
      const created =
        window === request.priority_window_minutes ? { request, event } : withWindow(request, event, window);
      onCommitted([created.event]);
      return { kind: 'created', request: created.request };
    }
    // The key was used before by this customer: same body → the first result, else 422.
    const existing = await sql.query<SessionRequestRecord & { request_hash: string }>({
      name: 'intake-request-by-key',
      text: `select ${SESSION_REQUEST_COLUMNS}, request_hash from session_requests
             where customer_id = $1 and idempotency_key = $2`,
      values: [input.customerId, input.idempotencyKey],
    });
    const first = existing.rows[0];
    if (!first) throw new Error('idempotent insert conflicted but no row holds the key');
    if (first.request_hash !== input.requestHash) return { kind: 'key_reused' };
    return { kind: 'replayed', request: toSessionRequest(first) };
  }

  return {
    /** Stores a new request and its `request.created` event atomically (outbox). */
    async create(input: NewSessionRequest): Promise<CreateOutcome> {
      try {
        return await insertOnce(input);
      } catch (err) {
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
