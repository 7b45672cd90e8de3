import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';

/** A seeded pseudo-random source (mulberry32), so a chaos run's choices can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the mechanics' apps saw and did, for the checks. */
export interface MechanicLog {
  /** The same frame id twice on one connection. */
  repeatedFrames: { mechanic: string; id: string; type: string }[];
  /** Accepts answered `ok: true`: request → the mechanics told they won. */
  wins: Map<string, Set<string>>;
  /** Every `result` frame, by outcome code ('ok' or the refusal). */
  results: Map<string, number>;
  connects: number;
  offers: number;
}

type Frame = { id?: string; type?: string; ref?: string; ok?: boolean; code?: string } & Record<string, unknown>;

/**
 * A mechanic's phone: connected to one gateway, reconnecting with backoff and jitter whenever the
 * socket drops (as a real app does), accepting or declining its priority offers and racing others
 * on broadcasts.
 */
export class MechanicApp {
  private ws: WebSocket | undefined;
  private stopped = false;
  private backoff = 100;
  /** Commands in flight on the current connection: ref → request id. */
  private readonly pending = new Map<string, string>();
  /** The refs of those commands that are accepts. */
  private readonly accepts = new Set<string>();

  constructor(
    readonly id: string,
    private readonly token: string,
    private readonly url: string,
    private readonly random: () => number,
    private readonly log: MechanicLog,
  ) {}

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url, {
      headers: { authorization: `Bearer ${this.token}` },
      perMessageDeflate: false,
    });
    this.ws = ws;
    // Frame ids seen on this connection: a repeat on the same connection is a bug; after a
    // reconnect the snapshot may legitimately restate what was offered before.
    const seen = new Set<string>();
    ws.on('open', () => {
      this.backoff = 100;
      this.log.connects++;
    });
    ws.on('message', (data: Buffer) => {
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        return;
      }
      if (frame.id) {
        if (seen.has(frame.id))
          this.log.repeatedFrames.push({ mechanic: this.id, id: frame.id, type: String(frame.type) });
        seen.add(frame.id);
      }
      this.onFrame(frame);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.pending.clear();
      this.accepts.clear();
      if (this.stopped) return;
      const delay = this.backoff * (0.5 + this.random());
      this.backoff = Math.min(this.backoff * 2, 2000);
      setTimeout(() => this.connect(), delay);
    });
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'priority_session_request': {
        this.log.offers++;
        const id = (frame.request as { id: string }).id;
        const roll = this.random();
        // The favorite usually answers within its window; sometimes it says no, sometimes nothing.
        if (roll < 0.55) this.later(100 + this.random() * 900, () => this.command('accept', id));
        else if (roll < 0.8) this.later(100 + this.random() * 600, () => this.command('decline', id));
        break;
      }
      case 'new_request': {
        this.log.offers++;
        const id = (frame.request as { id: string }).id;
        // Several mechanics race for every broadcast.
        if (this.random() < 0.5) this.later(this.random() * 300, () => this.command('accept', id));
        break;
      }
      case 'snapshot': {
        for (const item of (frame.open_requests as { kind: string; request: { id: string } }[]) ?? []) {
          if (this.random() < 0.3) this.later(this.random() * 500, () => this.command('accept', item.request.id));
        }
        break;
      }
      case 'result': {
        const ref = String(frame.ref);
        const requestId = this.pending.get(ref);
        this.pending.delete(ref);
        const outcome = frame.ok ? 'ok' : String(frame.code);
        this.log.results.set(outcome, (this.log.results.get(outcome) ?? 0) + 1);
        // The gateway answers accepts and declines alike; only an accepted accept is a win.
        if (frame.ok && requestId && this.accepts.has(ref)) {
          const winners = this.log.wins.get(requestId) ?? new Set<string>();
          winners.add(this.id);
          this.log.wins.set(requestId, winners);
        }
        this.accepts.delete(ref);
        break;
      }
    }
  }

  private command(type: 'accept' | 'decline', requestId: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const ref = randomUUID();
    this.pending.set(ref, requestId);
    if (type === 'accept') this.accepts.add(ref);
    ws.send(JSON.stringify({ type, request_id: requestId, ref }));
  }

  private later(ms: number, fn: () => void): void {
    setTimeout(() => {
      if (!this.stopped) fn();
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

/** A booking the API acknowledged (201, or 200 for a replay of the same key). */
export interface Booking {
  requestId: string;
  priority: boolean;
  attempts: number;
}

export interface CustomerLog {
  acknowledged: Booking[];
  /** Answers other than 201/200 that a retry does not cover (any 4xx but 429, any 5xx but 503). */
  unexpected: { status: number; body: string }[];
  /** Attempts that failed and were retried (connection refused while intake restarts, 503). */
  retries: number;
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
          priority: body.preferred_mechanic_id !== undefined,
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

/** A customer cancelling a booking, retrying on failure like `bookOnce`; 200 and 409 are answers. */
export async function cancelOnce(
  intakeUrl: string,
  token: string,
  requestId: string,
  log: CustomerLog,
  giveUpAt: number,
): Promise<void> {
  let backoff = 100;
  for (;;) {
    try {
      const res = await fetch(`${intakeUrl}/v1/session-requests/${requestId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (res.status === 200 || res.status === 409) {
        log.cancels.push({ requestId, status: res.status });
        return;
      }
      if (res.status !== 503 && res.status !== 429) {
        log.unexpected.push({ status: res.status, body: text.slice(0, 300) });
        return;
      }
    } catch {
      // intake is down or restarting: cancelling twice is harmless
    }
    if (Date.now() > giveUpAt) return;
    log.retries++;
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 1000);
  }
}
