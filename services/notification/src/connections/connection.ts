import type { Role } from '@dibs/contracts';
import { WebSocket } from 'ws';
import type { DisconnectReason } from '../adapters/gateway.metrics.js';
import type { AbuseGuard } from '../domain/abuse-guard.js';
import type { OfferKind } from '../domain/delivery.js';
import { OfferMemory, type SeenOutcome } from '../domain/offer-memory.js';
import { RecentIds } from '../domain/recent-ids.js';

/** A serialized server frame: written as a text frame, `id` names the event it carries. */
export interface OutFrame {
  id: string;
  type: string;
  data: Buffer;
}

export interface ConnectionLimits {
  maxBufferedBytes: number;
  /** Called when the client reads too slowly (its unsent bytes passed `maxBufferedBytes`). */
  onOverflow(conn: Connection): void;
  /** Counts written frames (a plain counter; /metrics reads it). */
  countSent(type: string, n?: number): void;
}

const TEXT = { binary: false } as const;
// Offers remembered per connection: as many as a snapshot lists, far above the requests open at
// once for one mechanic; the oldest is forgotten first.
const MAX_OFFERS_REMEMBERED = 1000;

/**
 * One client socket. Until `open()` (after `hello` and, for mechanics, the snapshot) live frames
 * wait in order, so nothing overtakes the snapshot. Then no event is written twice: an offer
 * at most once per request and kind, a withdrawal only while the offer is open here, any other
 * event only if its id is not among the last ones written. The offers made here also decide what
 * a client's `seen` of a request amounts to (`OfferMemory`).
 */
export class Connection {
  /** Answered the last server ping (or never pinged yet). */
  alive = true;
  /**
   * Live frames' bytes written since the peer last answered a ping (the handshake's hello and
   * snapshot do not count). A pong comes back only once the peer has read everything written
   * before the ping, so a peer that misses its pong with bytes here is a slow reader (its backlog
   * may sit in the kernel's buffers, where `bufferedAmount` cannot see it), not a dead one.
   */
  sentSincePong = 0;
  /** When the heartbeat last pinged it (ms); a new socket counts as just pinged. */
  pingedAt = Date.now();
  /** When the gateway started closing it (0 while open); a stuck close is cut later. */
  closingSince = 0;
  closeReason: DisconnectReason | undefined;
  private queued: (() => void)[] | undefined = [];
  private recent: RecentIds | undefined;
  private accepting: Map<string, (() => void)[]> | undefined;
  private offered: OfferMemory | undefined;
  /** When the token expires (ms since the epoch), and when to warn about it (0: no warning). */
  expiresAt = Number.POSITIVE_INFINITY;
  warnAt = 0;

  constructor(
    readonly seq: number,
    readonly ws: WebSocket,
    readonly role: Exclude<Role, 'admin'>,
    readonly userId: string,
    readonly guard: AbuseGuard,
    private readonly limits: ConnectionLimits,
  ) {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.closingSince === 0;
  }

  /** Writes one of the gateway's own frames (hello, snapshot, result, error, pong) right away. */
  write(frame: OutFrame): boolean {
    if (!this.send(frame)) return false;
    this.limits.countSent(frame.type);
    return true;
  }

  /** Releases live frames held back while the snapshot was loading, in arrival order. */
  open(): void {
    this.sentSincePong = 0;
    const queued = this.queued;
    this.queued = undefined;
    if (queued) for (const send of queued) send();
  }

  /** Records offers the snapshot already made, so a live repeat of them is not sent. */
  markOffered(requestId: string, kind: OfferKind, tier: number | null): void {
    this.memory().offer(requestId, kind, tier);
  }

  /** The app showed `requestId`: the first `seen` of an offer made here is forwarded (CONTRACT §7). */
  seen(requestId: string): SeenOutcome {
    return this.offered?.seen(requestId) ?? { outcome: 'not_offered' };
  }

  /** A `seen` could not be forwarded: the next one of the request counts again. */
  unsee(requestId: string): void {
    this.offered?.unsee(requestId);
  }

  /**
   * An accept of `requestId` is on its way to routing. Until its answer, a withdrawal of that
   * request waits: routing's `request_taken` may overtake its reply to the command.
   */
  beginAccept(requestId: string): void {
    this.accepting ??= new Map();
    this.accepting.set(requestId, []);
  }

  /** The answer came: a winner needs no `request_taken` (it has its result); anyone else gets what waited. */
  endAccept(requestId: string, won: boolean): void {
    const waiting = this.accepting?.get(requestId) ?? [];
    this.accepting?.delete(requestId);
    if (this.accepting?.size === 0) this.accepting = undefined;
    if (won) this.offered?.end(requestId);
    else for (const send of waiting) send();
  }

  /** Sends an offer unless this connection was already offered the same request the same way. */
  offer(frame: OutFrame, requestId: string, kind: OfferKind, tier: number | null): number {
    if (this.queued) return this.hold(frame, () => this.offer(frame, requestId, kind, tier));
    // One offer per request and kind exists, so the offer memory is also the repeat filter here:
    // a broadcast to thousands of sockets allocates no per-connection id set.
    if (!this.isOpen) return 0;
    if (!this.memory().offer(requestId, kind, tier)) return 0;
    return this.send(frame) ? 1 : 0;
  }

  /** Sends taken/cancelled; with `onlyOffered`, only if this connection was offered the request. */
  withdraw(frame: OutFrame, requestId: string, onlyOffered: boolean): number {
    if (this.queued) return this.hold(frame, () => this.withdraw(frame, requestId, onlyOffered));
    const waiting = this.accepting?.get(requestId);
    if (waiting) return this.hold(frame, () => this.withdraw(frame, requestId, onlyOffered), waiting);
    if (onlyOffered) {
      // Ending the offer makes a repeat of this event find nothing to withdraw.
      if (!this.offered?.end(requestId)) return 0;
      return this.send(frame) ? 1 : 0;
    }
    this.offered?.end(requestId);
    return this.relay(frame) ? 1 : 0;
  }

  /** Sends any other relayed event (a customer's request_update). */
  update(frame: OutFrame): number {
    if (this.queued) return this.hold(frame, () => this.update(frame));
    return this.relay(frame) ? 1 : 0;
  }

  // A relayed event whose id this connection has already seen is a republish: dropped.
  private relay(frame: OutFrame): boolean {
    this.recent ??= new RecentIds(64);
    if (!this.recent.add(frame.id)) return false;
    return this.send(frame);
  }

  // Relayed frames are counted by the caller (once per delivery, not per socket), except those
  // held back here, which count when they leave.
  private hold(frame: OutFrame, send: () => number, queue = this.queued): number {
    queue?.push(() => {
      if (send() > 0) this.limits.countSent(frame.type);
    });
    return 0;
  }

  private send(frame: OutFrame): boolean {
    if (!this.isOpen) return false;
    this.ws.send(frame.data, TEXT);
    this.sentSincePong += frame.data.length;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) this.limits.onOverflow(this);
    return true;
  }

  private memory(): OfferMemory {
    this.offered ??= new OfferMemory(MAX_OFFERS_REMEMBERED);
    return this.offered;
  }
}
