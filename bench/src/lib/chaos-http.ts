// The people of a chaos run as intake sees them: customers booking and cancelling, mechanics
// saying whether they take offers. Each call is retried as a phone app retries it while intake is
// down or restarting, and every answer the contract does not allow is logged for the checks.
import { randomUUID } from 'node:crypto';

/** A booking the API acknowledged (201, or 200 for a replay of the same key). */
export interface Booking {
  requestId: string;
  priority: boolean;
  attempts: number;
}

/** The answers and retries of one side's HTTP calls. */
export interface HttpLog {
  /** Answers that a retry does not cover (any 4xx but 429, any 5xx but 503). */
  unexpected: { status: number; body: string }[];
  /** Attempts that failed and were retried (connection refused while intake restarts, 503). */
  retries: number;
}

export interface CustomerLog extends HttpLog {
  acknowledged: Booking[];
  /** Bookings still unacknowledged when the run gave up on them. */
  abandoned: number;
  /** Cancels answered 200 (cancelled) or 409 (already accepted), by request. */
  cancels: { requestId: string; status: 200 | 409 }[];
}

/**
 * A customer's app booking once: a fresh Idempotency-Key, and the same key and body on every
 * retry after a failure (intake killed, 503), until it is acknowledged or `giveUpAt`. Resolves
 * with the booking, or undefined when it was refused or given up.
 */
export async function bookOnce(
  intakeUrl: string,
  token: string,
  body: Record<string, unknown>,
  log: CustomerLog,
  giveUpAt: number,
): Promise<Booking | undefined> {
  const key = randomUUID();
  let backoff = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${intakeUrl}/v1/session-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (res.status === 201 || res.status === 200) {
        const request = JSON.parse(text) as { id: string };
        const booking = {
          requestId: request.id,
          priority: body.routing_type === 'priority_broadcast' || body.routing_type === 'priority_sequence',
          attempts: attempt,
        };
        log.acknowledged.push(booking);
        return booking;
      }
      if (res.status !== 503 && res.status !== 429) {
        log.unexpected.push({ status: res.status, body: text.slice(0, 300) });
        return undefined;
      }
    } catch {
      // intake is down or restarting: retry with the same key
    }
    if (Date.now() > giveUpAt) {
      log.abandoned++;
      return undefined;
    }
    log.retries++;
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 1000);
  }
}

/** A customer ranking its favorites (PUT /v1/favorites/order), at setup, before anything is killed. */
export async function rankFavorites(intakeUrl: string, token: string, mechanicIds: string[]): Promise<void> {
  const res = await fetch(`${intakeUrl}/v1/favorites/order`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mechanic_ids: mechanicIds }),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`ranking favorites: ${res.status} ${await res.text()}`);
}

/** A customer cancelling a booking, retrying on failure like `bookOnce`; 200 and 409 are answers. */
export async function cancelOnce(
  intakeUrl: string,
  token: string,
  requestId: string,
  log: CustomerLog,
  giveUpAt: number,
): Promise<void> {
  // Cancelling twice is harmless, so a retry after intake died mid-call is too.
  const status = await retrying(
    `${intakeUrl}/v1/session-requests/${requestId}/cancel`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` } },
    [200, 409],
    log,
    giveUpAt,
  );
  if (status === 200 || status === 409) log.cancels.push({ requestId, status });
}

/**
 * A mechanic saying whether they take offers now (PUT /v1/mechanics/me/availability), retried
 * like a cancel; resolves true once intake answered 200.
 */
export async function setAvailability(
  intakeUrl: string,
  token: string,
  available: boolean,
  log: HttpLog,
  giveUpAt: number,
): Promise<boolean> {
  const status = await retrying(
    `${intakeUrl}/v1/mechanics/me/availability`,
    {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ available }),
    },
    [200],
    log,
    giveUpAt,
  );
  return status === 200;
}

/**
 * One idempotent call, tried again on failure (intake down or restarting, 503, 429) until it gets
 * one of `answers` or `giveUpAt`; any other answer is logged as unexpected. Resolves with the
 * answer's status, or undefined.
 */
async function retrying(
  url: string,
  init: RequestInit,
  answers: number[],
  log: HttpLog,
  giveUpAt: number,
): Promise<number | undefined> {
  let backoff = 100;
  for (;;) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      if (answers.includes(res.status)) return res.status;
      if (res.status !== 503 && res.status !== 429) {
        log.unexpected.push({ status: res.status, body: text.slice(0, 300) });
        return undefined;
      }
    } catch {
      // intake is down or restarting: try again
    }
    if (Date.now() > giveUpAt) return undefined;
    log.retries++;
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 1000);
  }
}
