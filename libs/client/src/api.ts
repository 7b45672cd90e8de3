import {
  ANALYTICS_REPORT_SCHEMAS,
  type MechanicStats,
  MechanicStatsSchema,
  type SessionRequest,
  SessionRequestSchema,
} from '@dibs/contracts';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { createAdminApi } from './api-admin.js';
import { DibsResponseError } from './errors.js';
import { type CallOptions, createTransport, type HttpCall, type HttpOptions, type Transport } from './http.js';
import type {
  Availability,
  BookingBody,
  Favorite,
  FavoriteAdded,
  FavoritedBy,
  MechanicListItem,
  MechanicListQuery,
  Page,
  PutAvailabilityBody,
  ReportRange,
  SessionRequestListQuery,
} from './types.js';

/** A booking's options: its `Idempotency-Key` (a fresh uuid when left out), reused by every retry. */
export interface BookOptions extends CallOptions {
  idempotencyKey?: string;
}

const SessionRequestPageSchema = z.object({ items: z.array(SessionRequestSchema), next_cursor: z.string().nullable() });
const reports = ANALYTICS_REPORT_SCHEMAS;

/** Calls the API and returns its body, parsed by `schema` when given (else as the server sent it). */
export type Caller = <T>(call: HttpCall, schema?: z.ZodType<T>) => Promise<T>;

function caller(transport: Transport): Caller {
  return async (call, schema) => {
    const { body } = await transport(call);
    if (!schema) return body as never;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new DibsResponseError(`${call.method} ${call.path}: the answer does not match its schema: ${parsed.error}`);
    }
    return parsed.data;
  };
}

const id = (value: string) => encodeURIComponent(value);

/**
 * The dibs HTTP API (CONTRACT §3, §6, §7, §8), one typed method per route. Roles are the server's
 * business: a call the token's role may not make fails with `DibsApiError` 403.
 */
export function createDibsApi(options: HttpOptions) {
  const transport = createTransport(options);
  const call = caller(transport);
  const get = <T>(path: string, opts?: CallOptions, schema?: z.ZodType<T>, query?: HttpCall['query']) =>
    call<T>({ method: 'GET', path, query, retry: 'idempotent', signal: opts?.signal }, schema);
  const command = (path: string, opts?: CallOptions) =>
    call({ method: 'POST', path, retry: 'refused_only', signal: opts?.signal }, SessionRequestSchema);

  /**
   * Books a session. The `Idempotency-Key` is generated once per call and sent with every retry,
   * so a booking retried after a lost answer or a 503 creates one request.
   */
  const book = (body: BookingBody, opts?: BookOptions): Promise<SessionRequest> =>
    call(
      {
        method: 'POST',
        path: '/v1/session-requests',
        body,
        headers: { 'idempotency-key': opts?.idempotencyKey ?? uuidv4() },
        retry: 'idempotent',
        signal: opts?.signal,
      },
      SessionRequestSchema,
    );
  /** One page of the customer's own requests, newest first. */
  const list = (query: SessionRequestListQuery = {}, opts?: CallOptions): Promise<Page<SessionRequest>> =>
    get('/v1/session-requests', opts, SessionRequestPageSchema, { ...query });

  return {
    /** A customer's favorites (CONTRACT §3) and their ranking (§6). */
    favorites: {
      /** Adds a favorite; `created` is false when it already was one. 404 `not_found`: no such mechanic. */
      async add(mechanicId: string, opts?: CallOptions): Promise<FavoriteAdded> {
        const { status, body } = await transport({
          method: 'PUT',
          path: `/v1/favorites/${id(mechanicId)}`,
          retry: 'idempotent',
          signal: opts?.signal,
        });
        return { ...(body as Omit<FavoriteAdded, 'created'>), created: status === 201 };
      },
      /** Removes a favorite (also when it was none). */
      async remove(mechanicId: string, opts?: CallOptions): Promise<void> {
        await transport({
          method: 'DELETE',
          path: `/v1/favorites/${id(mechanicId)}`,
          retry: 'idempotent',
          signal: opts?.signal,
        });
      },
      /** Ranked first (rank 1–3), then the newest. */
      list: (opts?: CallOptions) => get<Favorite[]>('/v1/favorites', opts),
      /** The seed's shape: `{isFavorite}`. */
      status: (mechanicId: string, opts?: CallOptions) =>
        get<{ isFavorite: boolean }>('/v1/favorites/status', opts, undefined, { mechanic_id: mechanicId }),
      /** Replaces the ranking with 1–3 distinct favorites, best first; answers the favorites list. */
      setOrder: (mechanicIds: string[], opts?: CallOptions) =>
        call<Favorite[]>({
          method: 'PUT',
          path: '/v1/favorites/order',
          body: { mechanic_ids: mechanicIds },
          retry: 'idempotent',
          signal: opts?.signal,
        }),
    },

    /** Booking and following session requests (customers), and answering them (mechanics). */
    sessionRequests: {
      book,
      /** Books through the ranked favorites, one at a time (CONTRACT §6); 422 `no_ranked_favorites` without any. */
      bookSequence: (body: Omit<BookingBody, 'routing_type' | 'preferred_mechanic_id'>, opts?: BookOptions) =>
        book({ ...body, routing_type: 'priority_sequence' }, opts),
      /** One of the customer's own requests (another's: 404). */
      get: (requestId: string, opts?: CallOptions) =>
        get(`/v1/session-requests/${id(requestId)}`, opts, SessionRequestSchema),
      list,
      /** Every request of the customer matching `query`, page after page. */
      async *all(query: Omit<SessionRequestListQuery, 'cursor'> = {}, opts?: CallOptions) {
        let cursor: string | undefined;
        do {
          const page = await list({ ...query, ...(cursor ? { cursor } : {}) }, opts);
          yield* page.items;
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
      },
      /** Cancels (customer); 409 when it is already accepted. */
      cancel: (requestId: string, opts?: CallOptions) => command(`/v1/session-requests/${id(requestId)}/cancel`, opts),
      /** Accepts (mechanic); 409 `already_taken`, `priority_window_active` or `not_pending`. */
      accept: (requestId: string, opts?: CallOptions) => command(`/v1/session-requests/${id(requestId)}/accept`, opts),
      /** Declines (mechanic); the preferred mechanic's decline ends its window at once. */
      decline: (requestId: string, opts?: CallOptions) =>
        command(`/v1/session-requests/${id(requestId)}/decline`, opts),
    },

    /** The calling mechanic's own pages (CONTRACT §3, §6, §7), and the approved mechanics (§8). */
    mechanics: {
      /** Approved mechanics, for customers and admins (CONTRACT §8). */
      list: (query: MechanicListQuery = {}, opts?: CallOptions) =>
        get<Page<MechanicListItem>>('/v1/mechanics', opts, undefined, { ...query }),
      availability: (opts?: CallOptions) => get<Availability>('/v1/mechanics/me/availability', opts),
      setAvailability: (body: PutAvailabilityBody, opts?: CallOptions) =>
        call<Availability>({
          method: 'PUT',
          path: '/v1/mechanics/me/availability',
          body,
          retry: 'idempotent',
          signal: opts?.signal,
        }),
      stats: (opts?: CallOptions): Promise<MechanicStats> => get('/v1/mechanics/me/stats', opts, MechanicStatsSchema),
      /** Customers who favorited the caller, newest first. */
      favoritedBy: (opts?: CallOptions) => get<FavoritedBy[]>('/v1/mechanics/me/favorited-by', opts),
    },

    admin: createAdminApi(call),

    /** The reports (admin), parsed with their schemas in `@dibs/contracts`. */
    analytics: {
      successRate: (query: ReportRange & { min_requests?: number } = {}, opts?: CallOptions) =>
        get('/v1/analytics/priority/success-rate', opts, reports.success_rate.data, { ...query }),
      responseTimes: (query: ReportRange = {}, opts?: CallOptions) =>
        get('/v1/analytics/priority/response-times', opts, reports.response_times.data, { ...query }),
      timeoutRate: (query: ReportRange = {}, opts?: CallOptions) =>
        get('/v1/analytics/priority/timeout-rate', opts, reports.timeout_rate.data, { ...query }),
      fallbackEffectiveness: (query: ReportRange = {}, opts?: CallOptions) =>
        get('/v1/analytics/priority/fallback-effectiveness', opts, reports.fallback_effectiveness.data, {
          ...query,
        }),
      skips: (query: ReportRange = {}, opts?: CallOptions) =>
        get('/v1/analytics/priority/skips', opts, reports.priority_skips.data, { ...query }),
      experiment: (key: string, opts?: CallOptions) =>
        get(`/v1/analytics/experiments/${id(key)}`, opts, reports.experiment.data),
      /** 409 `mixed_currencies` when the period spans currencies and none is named. */
      revenue: (query: ReportRange & { currency?: string } = {}, opts?: CallOptions) =>
        get('/v1/analytics/revenue', opts, reports.revenue.data, { ...query }),
    },
  };
}

export type DibsApi = ReturnType<typeof createDibsApi>;
