/**
 * The part of the WebSocket API the SDK uses: what browsers' and Node's global `WebSocket` and the
 * `ws` package's `WebSocket` all offer. Methods (not function properties), so each of their
 * listener signatures fits.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: SocketEvent) => void): void;
}

/** What the SDK reads of a socket event: `data` of a message, `code`/`reason` of a close. */
export interface SocketEvent {
  type?: string;
  data?: unknown;
  code?: number;
  reason?: string;
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** `WebSocket.OPEN`. */
export const OPEN = 1;

/** The constructor given, else the global one (browsers, Node ≥ 22); a clear error when there is none. */
export function webSocketConstructor(given?: WebSocketConstructorLike): WebSocketConstructorLike {
  const ctor = given ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (!ctor) throw new TypeError('no global WebSocket here: pass one (e.g. `WebSocket` of the ws package)');
  return ctor;
}

/** The gateway URL with the token as `?token=` (CONTRACT §2: what browsers, which cannot set headers, use). */
export function urlWithToken(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}
