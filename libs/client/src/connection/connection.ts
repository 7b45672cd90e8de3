import { GATEWAY_CLOSE_CODES, type ServerFrame, ServerFrameSchema, type SessionRequest } from '@dibs/contracts';
import { EventEmitter } from 'eventemitter3';
import { type Backoff, backoffDelay } from '../backoff.js';
import { DibsApiError } from '../errors.js';
import { resolveToken, tokenExpiresAt } from '../token.js';
import { type CommandOptions, PendingCommands } from './commands.js';
import type { ConnectionEvents, ConnectionOptions, ConnectionState, Identity, StateInfo } from './events.js';
import { applyOfferFrame, CustomerRequests, GONE_CODES } from './frames.js';
import { BoundedSet, type LiveOffer, OfferBook, type OfferChange } from './offers.js';
import { SeenAcks } from './seen.js';
import {
  OPEN,
  urlWithToken,
  type WebSocketConstructorLike,
  type WebSocketLike,
  webSocketConstructor,
} from './socket.js';

const DEFAULTS = { baseDelayMs: 500, maxDelayMs: 15_000, commandTimeoutMs: 10_000, tokenRefreshMarginMs: 60_000 };
/** Close codes the SDK closes its own sockets with (4000–4999 is the application's range). */
const CLIENT_CLOSE = { normal: 1000, replaced: 4000 } as const;

/**
 * A mechanic's or customer's connection to the notification gateway (CONTRACT §4, §8): a small
 * state machine (disconnected → connecting → connected) that reconnects with full-jitter backoff,
 * keeps a mechanic's offers current (snapshot merge, repeats dropped by frame id, stale offers
 * dropped by request), fetches a new token before the old one expires, and answers offers.
 */
export class DibsConnection extends EventEmitter<ConnectionEvents> {
  /** Who the gateway says this is, from its last `hello`. */
  identity: Identity | undefined;
  private readonly options: ConnectionOptions;
  private readonly ctor: WebSocketConstructorLike;
  private readonly backoff: Backoff;
  private readonly book = new OfferBook();
  private readonly customerRequests = new CustomerRequests();
  private readonly frameIds = new BoundedSet(2048);
  private readonly seenAcks = new SeenAcks();
  private readonly commands = new PendingCommands();
  private ws: WebSocketLike | undefined;
  private current: ConnectionState = 'disconnected';
  private stopped = true;
  private attempt = 0;
  /** A token fetched for the next socket (a refresh), used instead of asking the provider again. */
  private freshToken: string | undefined;
  private refreshing = false;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private lastFrameAt = 0;
  private waiters: (() => void)[] = [];

  constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.ctor = webSocketConstructor(options.WebSocket);
    this.backoff = {
      baseMs: options.reconnect?.baseDelayMs ?? DEFAULTS.baseDelayMs,
      maxMs: options.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs,
    };
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The mechanic's open offers. */
  offers(): LiveOffer[] {
    return this.book.list();
  }

  offer(requestId: string): LiveOffer | undefined {
    return this.book.get(requestId);
  }

  /** The customer's requests as their last `request_update` showed them. */
  requests(): SessionRequest[] {
    return this.customerRequests.list();
  }

  /** Starts connecting (and reconnecting until `close()`); resolves once connected. */
  connect(): Promise<void> {
    if (this.stopped) {
      this.stopped = false;
      void this.open();
    }
    return this.ready();
  }

  /** Resolves the next time the connection is `connected` (at once if it is). */
  ready(): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Closes for good (until `connect()` again): no reconnect; commands waiting fail with `closed`. */
  close(): void {
    this.stopped = true;
    const ws = this.ws;
    this.ws = undefined;
    this.clearTimers();
    this.commands.failAll('closed', true);
    closeQuietly(ws, CLIENT_CLOSE.normal);
    this.setState('closed', {});
  }

  /**
   * Tells the gateway the app showed the offer of `requestId` (CONTRACT §7): sent once per offer,
   * when connected again if the socket is away. False when there is no such offer, or it was
   * marked already.
   */
  seen(requestId: string): boolean {
    const offer = this.book.get(requestId);
    const connected = this.current === 'connected';
    if (!offer || !this.seenAcks.mark(offer, !connected)) return false;
    if (connected) this.send({ type: 'seen', request_id: requestId });
    return true;
  }

  /**
   * Accepts over the socket (waiting for the connection if it is away); resolves with the request
   * now accepted, or fails with `DibsApiError` (409 `already_taken`, …) or `DibsConnectionError`.
   */
  accept(requestId: string, options?: CommandOptions): Promise<SessionRequest> {
    return this.command('accept', requestId, options);
  }

  /** Declines over the socket; resolves with the request as the decline left it. */
  decline(requestId: string, options?: CommandOptions): Promise<SessionRequest> {
    return this.command('decline', requestId, options);
  }

  private async command(type: 'accept' | 'decline', requestId: string, options?: CommandOptions) {
    const timeoutMs = options?.timeoutMs ?? this.options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    const request = await this.commands.run(
      type,
      requestId,
      timeoutMs,
      () => this.ready(),
      (frame) => this.send(frame),
    );
    this.tell(this.book.remove(requestId, type === 'accept' ? 'accepted' : 'declined'));
    return request;
  }

  private async open(): Promise<void> {
    this.setState('connecting', { attempt: this.attempt + 1 });
    let token: string;
    try {
      token = this.freshToken ?? (await resolveToken(this.options.token));
    } catch (err) {
      this.emit('error', err as Error);
      this.retryLater();
      return;
    } finally {
      this.freshToken = undefined;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = new this.ctor(urlWithToken(this.options.url, token));
    } catch (err) {
      this.emit('error', err as Error);
      this.retryLater();
      return;
    }
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      if (ws === this.ws && typeof event.data === 'string') this.onMessage(event.data, token);
    });
    ws.addEventListener('close', (event) => this.lost(ws, event.code));
    // An error is followed by a close, which reconnects.
    ws.addEventListener('error', () => undefined);
  }

  /** Socket `ws` is gone (closed, dead, or replaced by a refresh): clean up, then reconnect unless stopped. */
  private lost(ws: WebSocketLike, code: number | undefined): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearTimers();
    this.commands.failAll('closed');
    if (this.stopped) return;
    // An expired token (4001) or a refresh: connect again at once, with a new token.
    if (code === GATEWAY_CLOSE_CODES.tokenExpired || this.freshToken !== undefined) {
      this.setState('disconnected', { attempt: this.attempt + 1, delayMs: 0, ...(code ? { code } : {}) });
      void this.open();
      return;
    }
    this.retryLater(code);
  }

  /** Closes `ws` from this side and handles it as lost at once: a dead path may never deliver its close. */
  private replace(ws: WebSocketLike): void {
    closeQuietly(ws, CLIENT_CLOSE.replaced);
    this.lost(ws, undefined);
  }

  private retryLater(code?: number): void {
    if (this.stopped) return;
    const delayMs = backoffDelay(this.backoff, this.attempt);
    this.attempt++;
    this.setState('disconnected', { attempt: this.attempt, delayMs, ...(code === undefined ? {} : { code }) });
    this.timers.push(setTimeout(() => void this.open(), delayMs));
  }

  private onMessage(text: string, token: string): void {
    this.lastFrameAt = Date.now();
    let frame: ServerFrame;
    try {
      const parsed = ServerFrameSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(parsed.error.message);
      frame = parsed.data;
    } catch (err) {
      this.emit('error', new Error(`a frame off the contract: ${(err as Error).message}`));
      return;
    }
    // Every frame's id is unique per event and audience (CONTRACT §4): a repeat changes nothing.
    if (!this.frameIds.add(frame.id)) return;
    this.apply(frame, token);
    this.emit('frame', frame);
  }

  private apply(frame: ServerFrame, token: string): void {
    const offerChanges = applyOfferFrame(this.book, frame);
    if (offerChanges) {
      this.tell(offerChanges);
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.identity = { role: frame.role, user_id: frame.user_id };
        this.startHeartbeat(frame.heartbeat_ms);
        this.scheduleRefresh(token);
        // A mechanic is connected once its snapshot is merged; a customer gets none.
        if (frame.role !== 'mechanic') this.connected();
        break;
      case 'snapshot':
        this.tell(this.book.applySnapshot(frame.open_requests, frame.at));
        this.connected();
        // Acks asked for while the socket was away; those of offers that ended were forgotten.
        for (const requestId of this.seenAcks.takeHeld()) this.send({ type: 'seen', request_id: requestId });
        this.emit('synced', this.book.list());
        break;
      case 'request_update':
        if (this.customerRequests.apply(frame.request, frame.at)) this.emit('requestUpdate', frame.request);
        break;
      case 'result': {
        const settled = this.commands.settle(frame);
        if (settled && !frame.ok && frame.code && GONE_CODES.has(frame.code)) {
          this.tell(this.book.remove(settled.requestId, 'taken'));
        }
        break;
      }
      case 'error':
        this.emit(
          'error',
          new DibsApiError({
            type: 'about:blank',
            title: frame.code,
            status: 400,
            detail: frame.detail ?? frame.code,
            code: frame.code,
          }),
        );
        break;
      case 'token_expiring':
        void this.refreshToken();
        break;
    }
  }

  /** Tells the app what changed in its offers. */
  private tell(changes: OfferChange[]): void {
    for (const change of changes) {
      if (change.type === 'added') this.emit('offerAdded', change.offer);
      else if (change.type === 'replaced') this.emit('offerReplaced', change.offer, change.previous);
      else {
        this.seenAcks.forget(change.offer.request_id);
        this.emit('offerRemoved', change.offer, change.reason);
      }
    }
  }

  private connected(): void {
    this.attempt = 0;
    this.setState('connected', {});
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private send(frame: object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * The gateway pings at the protocol level, which browsers answer without telling the page, so a
   * dead path (a gateway gone without a close) would go unnoticed: ping at the app level too, and
   * give the socket up when nothing came back for two intervals.
   */
  private startHeartbeat(intervalMs: number): void {
    const ws = this.ws;
    const timer = setInterval(() => {
      if (!ws || ws !== this.ws) return;
      if (Date.now() - this.lastFrameAt > 2 * intervalMs) this.replace(ws);
      else this.send({ type: 'ping' });
    }, intervalMs);
    this.timers.push(timer);
  }

  /** Asks for a new token before this one expires: `tokenRefreshMarginMs` early, at most half its life. */
  private scheduleRefresh(token: string): void {
    const expiresAt = tokenExpiresAt(token);
    if (expiresAt === undefined) return;
    const left = expiresAt - Date.now();
    const margin = Math.min(this.options.tokenRefreshMarginMs ?? DEFAULTS.tokenRefreshMarginMs, left / 2);
    this.timers.push(setTimeout(() => void this.refreshToken(), Math.max(0, left - margin)));
  }

  /**
   * A new token, then a new socket with it (the gateway checks a token at the handshake only).
   * Waits for the commands in flight first, so no accept is cut off; the new socket's snapshot
   * covers the moment between the two sockets.
   */
  private async refreshToken(): Promise<void> {
    const ws = this.ws;
    if (this.refreshing || !ws) return;
    this.refreshing = true;
    try {
      const token = await resolveToken(this.options.token);
      await this.commands.idle();
      if (ws !== this.ws || this.stopped) return;
      this.freshToken = token;
      this.replace(ws);
    } catch (err) {
      // The socket works until its token expires; that close (4001) asks the provider again.
      this.emit('error', err as Error);
    } finally {
      this.refreshing = false;
    }
  }

  private clearTimers(): void {
    // setTimeout and setInterval share one pool of ids (HTML timers; Node's Timeout objects too).
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private setState(state: ConnectionState, info: StateInfo): void {
    if (state === this.current && state !== 'disconnected') return;
    this.current = state;
    this.emit('state', state, info);
  }
}

function closeQuietly(ws: WebSocketLike | undefined, code: number): void {
  try {
    ws?.close(code);
  } catch {
    // Already closing or closed.
  }
}
