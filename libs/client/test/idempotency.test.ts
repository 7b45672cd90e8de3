import { connect, type Socket } from 'node:net';
import { eventually } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDibsApi, DibsApiError, type FetchLike, type RetryInfo } from '../src/index.js';
import { type ClientStack, type Person, startClientStack } from './support/stack.js';

// A booking's Idempotency-Key is made once per booking and sent again by every retry, so a retry
// never books twice. Against the real intake, run with room for one request at a time so a test
// can make it refuse (503 `overloaded`) for real.
let s: ClientStack;
let dana: Person;

beforeAll(async () => {
  s = await startClientStack({ intakeEnv: { INTAKE_MAX_IN_FLIGHT: '1' } });
  dana = await s.customer();
});
afterAll(async () => {
  await s?.close();
});

const video = { session_type: 'video', plan_code: 'basic' };

/** The global fetch, recording each attempt's Idempotency-Key and status; `loseAnswer(n)`: attempt n's answer never arrives. */
function observedFetch(loseAnswer: (attempt: number) => boolean = () => false) {
  const attempts: { key: string | undefined; status: number | undefined }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const attempt = { key: init.headers['idempotency-key'], status: undefined as number | undefined };
    attempts.push(attempt);
    const res = await globalThis.fetch(url, init);
    attempt.status = res.status;
    // The server did the work; the connection drops before its answer is read.
    if (loseAnswer(attempts.length)) throw new TypeError('fetch failed: socket hang up');
    return res;
  };
  return { fetch, attempts };
}

async function requestsOf(customerId: string): Promise<number> {
  const { rows } = await s.db.query<{ n: number }>(
    'select count(*)::int as n from session_requests where customer_id = $1',
    [customerId],
  );
  return rows[0]?.n ?? 0;
}

describe('retried bookings', () => {
  it('books once when the answer to the first attempt is lost and the SDK retries', async () => {
    const customer = await s.customer('Lost Answer');
    const { fetch, attempts } = observedFetch((n) => n === 1);
    const api = createDibsApi({ baseUrl: s.apiUrl, token: customer.token, fetch, retry: { baseDelayMs: 10 } });

    const booked = await api.sessionRequests.book(video);
    expect(attempts.map((a) => a.status)).toEqual([201, 200]);
    expect(attempts[0]?.key).toEqual(expect.any(String));
    expect(attempts[1]?.key).toBe(attempts[0]?.key);
    expect(await requestsOf(customer.id)).toBe(1);
    expect((await api.sessionRequests.list()).items.map((r) => r.id)).toEqual([booked.id]);
  });

  it('waits out a 503 overloaded (Retry-After) and retries with the same key', async () => {
    const customer = await s.customer('Busy Day');
    const { fetch, attempts } = observedFetch();
    // A request whose body never finishes holds intake's one slot.
    const stalled = await holdSlot(s.apiUrl);
    await eventually(
      async () => (await globalThis.fetch(`${s.apiUrl}/v1/favorites`)).status === 503,
      5000,
      'intake to refuse',
    );
    const retries: RetryInfo[] = [];
    const api = createDibsApi({
      baseUrl: s.apiUrl,
      token: customer.token,
      fetch,
      retry: { maxDelayMs: 200 },
      onRetry(info) {
        retries.push(info);
        stalled.destroy();
      },
    });

    const booked = await api.sessionRequests.book(video);
    expect(retries[0]?.error).toBeInstanceOf(DibsApiError);
    expect(retries[0]?.error).toMatchObject({ status: 503, code: 'overloaded', retryAfterMs: 1000 });
    expect(retries[0]?.delayMs).toBe(200);
    expect(attempts.map((a) => a.status)).toEqual([503, 201]);
    expect(new Set(attempts.map((a) => a.key)).size).toBe(1);
    expect(booked.customer_id).toBe(customer.id);
    expect(await requestsOf(customer.id)).toBe(1);
  });

  it('replays a booking repeated with the same key; the same key with another body is a 422', async () => {
    const first = await dana.api.sessionRequests.book(video, { idempotencyKey: 'dana-first' });
    const again = await dana.api.sessionRequests.book(video, { idempotencyKey: 'dana-first' });
    expect(again).toEqual(first);
    const err = await dana.api.sessionRequests
      .book({ ...video, plan_code: 'premium' }, { idempotencyKey: 'dana-first' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    // Two bookings without a key given are two requests: each gets its own.
    await dana.api.sessionRequests.book(video);
    await dana.api.sessionRequests.book(video);
    expect(await requestsOf(dana.id)).toBe(3);
  });
});

/** Opens a booking at `apiUrl` and sends its headers but not its whole body, so it stays in flight. */
async function holdSlot(apiUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(apiUrl);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /v1/session-requests HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
      `authorization: Bearer ${dana.token}\r\ncontent-length: 100\r\n\r\n{`,
  );
  return socket;
}
