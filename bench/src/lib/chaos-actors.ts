import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { HttpLog } from './chaos-http.js';

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

/** A frame whose id came before on the same connection, with what the connection was told of its request. */
export interface RepeatedFrame {
  mechanic: string;
  id: string;
  type: string;
  /** The type of the frame that came first with this id. */
  first?: string;
  requestId?: string;
  history?: string[];
}

/** What the mechanics' apps saw and did, for the checks; their HTTP calls (availability) too. */
export interface MechanicLog extends HttpLog {
  /** The same frame id twice on one connection. */
  repeatedFrames: RepeatedFrame[];
  /**
   * Two different frames with one id on one connection: CONTRACT §4 lets a client drop a frame
   * whose id it has seen, so such a client never sees the second.
   */
  sharedIds: RepeatedFrame[];
  /** A `priority_session_request` for a tier of a request already offered on the same connection. */
  repeatedTiers: { mechanic: string; requestId: string; tier: number }[];
  /** Accepts answered `ok: true`: request → the mechanics told they won. */
  wins: Map<string, Set<string>>;
  /** Every `result` frame, by outcome code ('ok' or the refusal). */
  results: Map<string, number>;
  connects: number;
  offers: number;
  /** Priority offers by the tier they named (1 for a single preferred mechanic). */
  tierOffers: Map<number, number>;
  /** Every app's frames and commands about each request (`time mechanic what`), for a report. */
  histories: Map<string, string[]>;
  /** `offer_expired` frames, and the answers the app still meant to give that they dropped. */
  expired: number;
  dropped: number;
  /** Availability changes intake acknowledged. */
  availabilityChanges: number;
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
  /** Priority offers the app means to answer: request id → the pending answer. */
  private readonly answers = new Map<string, NodeJS.Timeout>();
  /** `request:tier` of the priority offers received on the current connection. */
  private tiers = new Set<string>();
  /**
   * Notes what the current connection was told of a request, and what the app sent about it
   * (type@ms since connect): the history reported with a repeated frame.
   */
  private note: (requestId: string, what: string) => void = () => undefined;

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
    // Frame ids seen on this connection, with the type of the first frame of each: a repeat on the
    // same connection is a bug; after a reconnect the snapshot may legitimately restate what was
    // offered before.
    const seen = new Map<string, string>();
    const told = new Map<string, string[]>();
    const since = Date.now();
    this.tiers = new Set<string>();
    this.note = (requestId, what) => {
      told.set(requestId, [...(told.get(requestId) ?? []), `${what}@${Date.now() - since}`]);
      const all = this.log.histories.get(requestId) ?? [];
      all.push(`${new Date().toISOString().slice(11, 23)} ${this.id.slice(0, 8)} ${what}`);
      this.log.histories.set(requestId, all);
    };
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
      const requestId = (frame.request as { id?: string } | undefined)?.id ?? (frame.request_id as string | undefined);
      if (frame.id) {
        const first = seen.get(frame.id);
        if (first !== undefined)
          (first === frame.type ? this.log.repeatedFrames : this.log.sharedIds).push({
            mechanic: this.id,
            id: frame.id,
            type: String(frame.type),
            first,
            ...(requestId ? { requestId, history: told.get(requestId) ?? [] } : {}),
          });
        else seen.set(frame.id, String(frame.type));
      }
      if (requestId) this.note(requestId, String(frame.type));
      if (frame.type === 'snapshot')
        for (const item of (frame.open_requests as { kind: string; request: { id: string } }[]) ?? [])
          this.note(item.request.id, `snapshot ${item.kind}`);
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
        // A sequence's tier or a single preferred mechanic's window (tier 1): answered alike.
        const tier = Number(frame.tier ?? 1);
        this.log.tierOffers.set(tier, (this.log.tierOffers.get(tier) ?? 0) + 1);
        if (this.tiers.has(`${id}:${tier}`)) this.log.repeatedTiers.push({ mechanic: this.id, requestId: id, tier });
        this.tiers.add(`${id}:${tier}`);
        // The favorite usually answers within its window (a sequence's tiers are short), now and
        // then just past it, racing the tier's end; sometimes it says no, sometimes nothing.
        const left = Date.parse(String(frame.expires_at)) - Date.now();
        const within = (cap: number) => 100 + this.random() * Math.max(0, Math.min(cap, left * 1.1 - 100));
        const roll = this.random();
        if (roll < 0.55) this.answer(id, within(900), 'accept');
        else if (roll < 0.8) this.answer(id, within(500), 'decline');
        break;
      }
      case 'offer_expired': {
        // The tier ended unanswered: the offer is gone, and so is the answer the app meant to give.
        this.log.expired++;
        const id = String(frame.request_id);
        const pending = this.answers.get(id);
        if (pending) {
          clearTimeout(pending);
          this.answers.delete(id);
          this.log.dropped++;
        }
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
        if (requestId) this.note(requestId, `result ${outcome}`);
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
    this.note(requestId, `sent ${type}`);
    this.pending.set(ref, requestId);
    if (type === 'accept') this.accepts.add(ref);
    ws.send(JSON.stringify({ type, request_id: requestId, ref }));
  }

  /** Answers a priority offer after `ms`, unless the offer expires first. */
  private answer(requestId: string, ms: number, type: 'accept' | 'decline'): void {
    clearTimeout(this.answers.get(requestId));
    this.answers.set(
      requestId,
      this.later(ms, () => {
        this.answers.delete(requestId);
        this.command(type, requestId);
      }),
    );
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    return setTimeout(() => {
      if (!this.stopped) fn();
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    for (const pending of this.answers.values()) clearTimeout(pending);
    this.answers.clear();
    this.ws?.terminate();
  }
}
