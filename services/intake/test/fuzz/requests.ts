import fc from 'fast-check';
import {
  CONTENT_TYPES,
  extraHeaders,
  headerValue,
  hostileJson,
  hostileKey,
  hostileSegment,
  type Json,
  JsonObject,
  queryString,
  rawBody,
  type Segment,
  toJson,
} from './hostile.js';

// Whole requests for the HTTP fuzzing (fuzz.test.ts): against one route of intake's route table
// (its parameters, query and body mostly valid or hostile, any caller), or against no route.

export type Role = 'admin' | 'customer' | 'mechanic' | 'customer_or_admin' | 'public';

/** Callers the fuzzer impersonates; fuzz.test.ts holds a token (or none) for each. */
export const CALLERS = [
  'admin',
  'customer',
  'other_customer',
  'mechanic',
  'pending_mechanic',
  'ghost_customer',
  'ghost_mechanic',
  'none',
  'expired',
  'forged',
  'no_exp',
  'far_exp',
  'alg_none',
  'odd_claims',
] as const;
export type Caller = (typeof CALLERS)[number];

/** What the gate must answer a caller on a route of `role` (CONTRACT §2): 401, 403, or let it through. */
export function gateAnswer(role: Role, caller: Caller | 'garbage'): 401 | 403 | 'pass' | undefined {
  if (role === 'public') return undefined;
  const own: Record<Exclude<Role, 'public'>, { pass: Caller[]; ghost?: Caller }> = {
    admin: { pass: ['admin'] },
    customer: { pass: ['customer', 'other_customer'], ghost: 'ghost_customer' },
    mechanic: { pass: ['mechanic', 'pending_mechanic'], ghost: 'ghost_mechanic' },
    customer_or_admin: { pass: ['customer', 'other_customer', 'admin'], ghost: 'ghost_customer' },
  };
  const valid: Caller[] = [
    'admin',
    'customer',
    'other_customer',
    'mechanic',
    'pending_mechanic',
    'ghost_customer',
    'ghost_mechanic',
  ];
  if (caller === 'garbage' || !valid.includes(caller)) return 401;
  if (own[role].pass.includes(caller)) return 'pass';
  if (own[role].ghost === caller) return 401;
  return 403;
}

/** Kinds of path parameter; fuzz.test.ts supplies real ids of each. */
export type ParamKind = 'request' | 'mechanic' | 'victim' | 'customer' | 'flag' | 'experiment' | 'plan' | 'rest';

/** How to fuzz one route: who may call it, and what its parameters, query, headers and body look like. */
export interface RouteFuzz {
  role: Role;
  params?: Record<string, ParamKind>;
  query?: Record<string, fc.Arbitrary<string>>;
  headers?: Record<string, fc.Arbitrary<string>>;
  /** A valid body (fields it may leave out are optional in the record). */
  body?: fc.Arbitrary<Record<string, Json>>;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  caller: Caller | 'garbage';
  /** The Authorization value for a `garbage` caller. */
  rawAuthorization?: string;
  /** The router can route the URL (so the gate's answer is known). */
  routable: boolean;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileJson }),
  fc.record({ kind: fc.constant('add' as const), key: hostileKey, value: hostileJson }),
);

/** A valid body with one to three fields dropped, replaced by hostile values, or added. */
function mutatedBody(valid: fc.Arbitrary<Record<string, Json>>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([body, changes]) => {
    const entries: [string, Json][] = Object.entries(body);
    for (const m of changes) {
      if (m.kind === 'add') entries.push([m.key, m.value]);
      else if (entries.length > 0) {
        const at = m.at % entries.length;
        if (m.kind === 'drop') entries.splice(at, 1);
        else entries[at] = [(entries[at] as [string, Json])[0], m.value];
      }
    }
    return toJson(new JsonObject(entries));
  });
}

function payloadFor(spec: RouteFuzz): fc.Arbitrary<string | Buffer | undefined> {
  const hostile = fc.oneof(hostileJson.map(toJson), rawBody);
  if (!spec.body) return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostile });
  return fc.oneof(
    { weight: 3, arbitrary: spec.body.map((b) => toJson(new JsonObject(Object.entries(b)))) },
    { weight: 4, arbitrary: mutatedBody(spec.body) },
    { weight: 2, arbitrary: hostile },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerValue },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const garbageAuthorization = fc.oneof(
  fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Bearer a.b.c', 'Bearer ..', 'Bearer a b', 'Token x'),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue,
);

/**
 * Requests against one route (`METHOD /path/:param`): its parameters valid or hostile, its query
 * and body mostly valid or hostile, any caller, odd content types and headers.
 */
export function requestsFor(
  method: string,
  path: string,
  spec: RouteFuzz,
  validParam: (kind: ParamKind) => fc.Arbitrary<string>,
): fc.Arbitrary<FuzzRequest> {
  const names = [...path.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
  const segments = names.map((name) => {
    const kind = spec.params?.[name] ?? 'rest';
    const valid = validParam(kind).map((text): Segment => ({ text, routable: kind !== 'rest' }));
    return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: hostileSegment });
  });
  // Mostly callers the gate lets through, so that what comes after the gate is fuzzed too.
  const allowed = CALLERS.filter((c) => gateAnswer(spec.role, c) === 'pass');
  const callers = fc.oneof(
    { weight: allowed.length > 0 ? 12 : 0, arbitrary: fc.constantFrom(...(allowed.length > 0 ? allowed : CALLERS)) },
    { weight: 6, arbitrary: fc.constantFrom(...CALLERS) },
    { weight: 1, arbitrary: fc.constant('garbage' as const) },
  );
  return fc
    .record({
      method: method === 'GET' ? fc.constantFrom('GET', 'GET', 'GET', 'HEAD') : fc.constant(method),
      segments: fc.tuple(...segments),
      query: fc.option(queryString(spec.query ?? {}), { freq: spec.query ? 4 : 1 }),
      caller: callers,
      rawAuthorization: garbageAuthorization,
      payload: payloadFor(spec),
      contentType,
      routeHeaders: fc.record(spec.headers ?? {}, { requiredKeys: [] }),
      extra: extraHeaders,
    })
    .map((r) => {
      let i = 0;
      // A route of the whole tree (`OPTIONS *`, CORS preflights) has no leading slash of its own.
      const filled = path.replaceAll(/:(\w+)|\*/g, () => (r.segments[i++] as Segment).text).replace(/^(?!\/)/, '/');
      const headers: Record<string, string> = { ...r.extra, ...(r.routeHeaders as Record<string, string>) };
      if (r.payload !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
      return {
        method: r.method,
        url: r.query === null ? filled : `${filled}?${r.query}`,
        headers,
        ...(r.payload !== undefined ? { payload: r.payload } : {}),
        caller: r.caller,
        ...(r.caller === 'garbage' ? { rawAuthorization: r.rawAuthorization } : {}),
        routable: r.segments.every((s) => (s as Segment).routable),
      };
    });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];

/** Requests to paths no route serves, with any method, caller and body. */
export function unroutedRequests(): fc.Arbitrary<FuzzRequest> {
  const known = fc.constantFrom(
    'v1',
    'admin',
    'session-requests',
    'favorites',
    'mechanics',
    'me',
    'docs',
    'ws',
    'experiments',
    'plans',
    'analytics',
  );
  const segment = fc.oneof(
    known.map((text) => ({ text, routable: true })),
    hostileSegment,
  );
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      segments: fc.array(segment, { minLength: 0, maxLength: 6 }),
      payload: fc.option(rawBody, { freq: 3 }),
      contentType,
      extra: extraHeaders,
    })
    .map((r) => ({
      method: r.method,
      url: `/${r.segments.map((s) => s.text).join('/')}`,
      headers: {
        ...r.extra,
        ...(r.payload !== null && r.contentType !== undefined ? { 'content-type': r.contentType } : {}),
      },
      ...(r.payload !== null ? { payload: r.payload } : {}),
      caller: 'none' as const,
      routable: false,
    }));
}
