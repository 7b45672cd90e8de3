import { ProblemSchema } from '@dibs/contracts';
import { type Backoff, backoffDelay, sleep } from './backoff.js';
import { DibsApiError, DibsNetworkError, type Problem } from './errors.js';
import { resolveToken, type TokenSource } from './token.js';

/** The part of a fetch `Response` the SDK reads. */
export interface FetchResponseLike {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The part of `fetch` the SDK calls: the global one by default, or any compatible function. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<FetchResponseLike>;

/** How a refused or failed call is repeated. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 = never retry). */
  attempts?: number;
  /** First backoff ceiling (default 250 ms), doubled per attempt, with full jitter. */
  baseDelayMs?: number;
  /** Longest wait between attempts, `Retry-After` included (default 5000 ms). */
  maxDelayMs?: number;
}

/** Told to `onRetry` before each repeat of a call. */
export interface RetryInfo {
  method: string;
  path: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  /** Why: the API's refusal, or the network error. */
  error: unknown;
}

export interface HttpOptions {
  /** Where intake serves the API, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** The caller's bearer token (CONTRACT §2); leave it out for anonymous calls. */
  token?: TokenSource;
  fetch?: FetchLike;
  retry?: RetryOptions;
  /** Longest wait for one attempt's answer (default 30 000 ms); past it the attempt counts as a network error. */
  timeoutMs?: number;
  onRetry?: (info: RetryInfo) => void;
}

/** Per call: an `AbortSignal` that cancels it, retries included. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Which failures a call may be repeated after. Every call is repeated after a refusal that did
 * nothing (503 `overloaded`, 429: refused at the door, CONTRACT §3). Only `idempotent` calls are
 * repeated after a failure that may have done something (a network error, a timeout, another
 * 502/503/504): the reads, PUT/PATCH/DELETE, and a booking, which carries its `Idempotency-Key`.
 */
export type RetryPolicy = 'idempotent' | 'refused_only';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  retry: RetryPolicy;
  signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: FetchResponseLike['headers'];
}

export type Transport = (call: HttpCall) => Promise<HttpAnswer>;

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5000 };

/** The one way the SDK talks HTTP: token, JSON, retries with backoff, problem+json → DibsApiError. */
export function createTransport(options: HttpOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const backoff: Backoff = { baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs };
  const timeoutMs = options.timeoutMs ?? 30_000;

  return async function send(call) {
    const url = base + call.path + queryString(call.query);
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (let attempt = 1; ; attempt++) {
      if (options.token !== undefined) headers.authorization = `Bearer ${await resolveToken(options.token)}`;
      const signal = call.signal
        ? AbortSignal.any([call.signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      let failure: DibsApiError | DibsNetworkError;
      let retryable: boolean;
      let waitAtLeast = 0;
      try {
        const res = await doFetch(url, {
          method: call.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal,
        });
        const parsed = parseJson(await res.text());
        if (res.status < 400) return { status: res.status, body: parsed, headers: res.headers };
        const retryAfterMs = retryAfter(res.headers.get('retry-after'));
        const refusal = new DibsApiError(asProblem(res, parsed), retryAfterMs);
        failure = refusal;
        retryable =
          res.status === 429 ||
          (res.status === 503 && refusal.code === 'overloaded') ||
          (call.retry === 'idempotent' && [502, 503, 504].includes(res.status));
        waitAtLeast = retryAfterMs ?? 0;
      } catch (err) {
        // The caller gave up: no retry, and its reason, not a network error.
        if (call.signal?.aborted) throw call.signal.reason;
        failure = new DibsNetworkError(`${call.method} ${call.path}: ${(err as Error).message ?? err}`, { cause: err });
        retryable = call.retry === 'idempotent';
      }
      if (!retryable || attempt >= retry.attempts) throw failure;
      const delayMs = Math.min(retry.maxDelayMs, Math.max(waitAtLeast, backoffDelay(backoff, attempt - 1)));
      options.onRetry?.({ method: call.method, path: call.path, attempt, delayMs, error: failure });
      await sleep(delayMs, call.signal);
    }
  };
}

function queryString(query: HttpCall['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `Retry-After` in ms: seconds or an HTTP date. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The problem an error answer carries; a body that is not one (a proxy's page) becomes `http_<status>`. */
function asProblem(res: FetchResponseLike, body: unknown): Problem {
  const problem = ProblemSchema.safeParse(body);
  if (problem.success) return problem.data;
  const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem>;
  const code = typeof b.code === 'string' ? b.code : `http_${res.status}`;
  return {
    type: typeof b.type === 'string' ? b.type : 'about:blank',
    title: typeof b.title === 'string' ? b.title : res.statusText || code,
    status: typeof b.status === 'number' ? b.status : res.status,
    detail: typeof b.detail === 'string' ? b.detail : typeof body === 'string' ? body.slice(0, 500) : code,
    code,
    ...(Array.isArray(b.errors) ? { errors: b.errors } : {}),
  };
}
