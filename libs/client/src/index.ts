// @dibs/client: the typed SDK of CONTRACT §8, for browsers and Node. Nothing here imports a Node
// built-in: HTTP goes through `fetch`, the gateway through a WebSocket (the global one, or one given).

export type {
  ExperimentReport,
  FallbackEffectiveness,
  MechanicRequest,
  MechanicStats,
  Offer,
  PrioritySkips,
  ResponseTimes,
  RevenueReport,
  ServerFrame,
  SessionRequest,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/contracts';
export { type BookOptions, createDibsApi, type DibsApi } from './api.js';
export type { CommandOptions } from './connection/commands.js';
export { DibsConnection } from './connection/connection.js';
export type { ConnectionEvents, ConnectionOptions, ConnectionState, Identity, StateInfo } from './connection/events.js';
export type { LiveOffer, OfferRemovalReason } from './connection/offers.js';
export type { SocketEvent, WebSocketConstructorLike, WebSocketLike } from './connection/socket.js';
export {
  DibsApiError,
  DibsConnectionError,
  DibsError,
  DibsNetworkError,
  DibsResponseError,
  type FieldError,
  type Problem,
} from './errors.js';
export type { CallOptions, FetchLike, FetchResponseLike, HttpOptions, RetryInfo, RetryOptions } from './http.js';
export type { TokenSource } from './token.js';
export type * from './types.js';
