import type { Role, ServerFrame, SessionRequest } from '@dibs/contracts';
import type { DibsError } from '../errors.js';
import type { TokenSource } from '../token.js';
import type { LiveOffer, OfferRemovalReason } from './offers.js';
import type { WebSocketConstructorLike } from './socket.js';

/**
 * `connecting`: a socket is being opened (or waits for its `hello`, and a mechanic's `snapshot`);
 * `connected`: the gateway said hello and, for a mechanic, the offers are those of its snapshot;
 * `disconnected`: waiting to reconnect (or not started); `closed`: `close()` was called.
 */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface ConnectionOptions {
  /** The gateway, e.g. `ws://localhost:3001/v1/ws`. */
  url: string;
  /** Called on every connect and again before the token expires (CONTRACT §2). */
  token: TokenSource;
  /** The WebSocket constructor; default the global one (browsers, Node ≥ 22), else e.g. `ws`'s. */
  WebSocket?: WebSocketConstructorLike;
  /** Reconnect backoff: full jitter under `baseDelayMs · 2^attempt`, at most `maxDelayMs` (default 500, 15 000). */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
  /** How long accept/decline wait for the connection and their `result` (default 10 000 ms). */
  commandTimeoutMs?: number;
  /** Fetch a new token this long before the current one expires (default 60 000 ms, at most half its life). */
  tokenRefreshMarginMs?: number;
}

/** Details of a state change: the attempt (from 1) and delay of a coming (re)connect, the close code that caused it. */
export interface StateInfo {
  attempt?: number;
  delayMs?: number;
  code?: number;
}

/** Who the gateway says the connection is, from its `hello`. */
export interface Identity {
  role: Role;
  user_id: string;
}

export interface ConnectionEvents {
  state: (state: ConnectionState, info: StateInfo) => void;
  /** A request the mechanic may accept now, new to the app. */
  offerAdded: (offer: LiveOffer) => void;
  /** The same request, offered otherwise: a priority offer became a broadcast, or another tier. */
  offerReplaced: (offer: LiveOffer, previous: LiveOffer) => void;
  offerRemoved: (offer: LiveOffer, reason: OfferRemovalReason) => void;
  /** After each snapshot is merged: every open offer. */
  synced: (offers: LiveOffer[]) => void;
  /** A customer's request changed (priority notified, each tier, broadcast, accepted, cancelled). */
  requestUpdate: (request: SessionRequest) => void;
  /** Every frame once, repeats dropped, after the SDK applied it. */
  frame: (frame: ServerFrame) => void;
  /** A refused frame (`{"type":"error"}`), a frame off the contract, or a failed token fetch. */
  error: (error: DibsError | Error) => void;
}
