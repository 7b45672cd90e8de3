import { z } from 'zod';
import { CommandErrorCodeSchema } from './commands.js';
import { NotificationSchema } from './notifications.js';
import { FallbackReasonSchema, MechanicRequestSchema, RoleSchema, SessionRequestSchema } from './session-request.js';

/**
 * The notification gateway's own WebSocket frames (CONTRACT §4), next to the relayed
 * notifications of `notifications.ts`. Every server frame carries `{id, type, at}`.
 */
const frame = {
  id: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
};

/** The first frame on every connection. */
export const HelloFrameSchema = z.object({
  ...frame,
  type: z.literal('hello'),
  role: RoleSchema,
  user_id: z.uuid(),
  heartbeat_ms: z.number().int(),
});

/**
 * One request a mechanic may accept right now. `kind: 'priority'` is the mechanic's own offer
 * inside its window (`expires_at` = end of the window); `kind: 'broadcast'` is open to every
 * approved mechanic (`expires_at` null, `fallback_reason` as in `new_request`).
 */
export const SnapshotItemSchema = z.object({
  kind: z.enum(['priority', 'broadcast']),
  request: MechanicRequestSchema,
  expires_at: z.iso.datetime({ offset: true }).nullable(),
  fallback_reason: FallbackReasonSchema.nullable(),
  /** A priority offer's tier (1 for a single preferred mechanic, CONTRACT §6); null for a broadcast. */
  tier: z.number().int().min(1).nullable(),
  /** A priority offer's window (its tier's, in a sequence); null for a broadcast. */
  priority_window_minutes: z.number().int().nullable(),
});
export type SnapshotItem = z.infer<typeof SnapshotItemSchema>;

/** Sent to mechanics right after `hello`: everything still open for them. */
export const SnapshotFrameSchema = z.object({
  ...frame,
  type: z.literal('snapshot'),
  open_requests: z.array(SnapshotItemSchema),
});

/** Answer to a client's accept/decline; `code` as in HTTP (COMMAND_ERROR_STATUS). */
export const ResultFrameSchema = z.object({
  ...frame,
  type: z.literal('result'),
  ref: z.unknown(),
  ok: z.boolean(),
  code: CommandErrorCodeSchema.optional(),
  /** Why, in words, when `ok` is false. */
  detail: z.string().optional(),
  request: SessionRequestSchema.optional(),
});

/** Why a client frame was refused. */
export const GATEWAY_ERROR_CODES = [
  'invalid_json',
  'frame_too_large',
  'unknown_type',
  'invalid_frame',
  'rate_limited',
  /** A `seen` for a request this connection was never offered (nothing is recorded). */
  'not_offered',
] as const;
export const ErrorFrameSchema = z.object({
  ...frame,
  type: z.literal('error'),
  code: z.enum(GATEWAY_ERROR_CODES),
  detail: z.string().optional(),
});
export const PongFrameSchema = z.object({ ...frame, type: z.literal('pong') });
/** Sent once, shortly before the token expires: reconnect with a fresh token before `expires_at`. */
export const TokenExpiringFrameSchema = z.object({
  ...frame,
  type: z.literal('token_expiring'),
  expires_at: z.iso.datetime({ offset: true }),
});

/**
 * The gateway's own frames by type. It builds each one from its schema's type (`GatewayFrameInit`),
 * and tests (and clients) parse what they receive with the same schema.
 */
export const GATEWAY_FRAME_SCHEMAS = {
  hello: HelloFrameSchema,
  snapshot: SnapshotFrameSchema,
  result: ResultFrameSchema,
  error: ErrorFrameSchema,
  pong: PongFrameSchema,
  token_expiring: TokenExpiringFrameSchema,
} as const;
export type GatewayFrameType = keyof typeof GATEWAY_FRAME_SCHEMAS;
export type GatewayFrameOf<T extends GatewayFrameType> = z.infer<(typeof GATEWAY_FRAME_SCHEMAS)[T]>;
export type GatewayFrame = GatewayFrameOf<GatewayFrameType>;
/** One of the gateway's own frames without its `id` and `at`, which the gateway adds when it sends it. */
export type GatewayFrameInit = {
  [T in GatewayFrameType]: Omit<z.input<(typeof GATEWAY_FRAME_SCHEMAS)[T]>, 'id' | 'at'>;
}[GatewayFrameType];

/** Frames a client may send. `ref` is echoed in the `result`. */
export const ClientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('accept'), request_id: z.uuid(), ref: z.unknown().optional() }),
  z.object({ type: z.literal('decline'), request_id: z.uuid(), ref: z.unknown().optional() }),
  z.object({ type: z.literal('ping') }),
  /** The app showed the offer of `request_id` (CONTRACT §7); the first per (request, mechanic) counts. */
  z.object({ type: z.literal('seen'), request_id: z.uuid() }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export const CLIENT_FRAME_TYPES = ['accept', 'decline', 'ping', 'seen'] as const;

/** WebSocket close codes the gateway uses. */
export const GATEWAY_CLOSE_CODES = {
  /** Repeated abuse (bad frames, flooding). */
  policyViolation: 1008,
  /** The gateway is restarting: reconnect (to another instance). */
  serviceRestart: 1012,
  /** The client read too slowly; its send buffer passed the bound. */
  tryAgainLater: 1013,
  /** The token expired: reconnect with a fresh one. */
  tokenExpired: 4001,
} as const;

/**
 * Presence of one mechanic on one gateway instance, in KV bucket `natsNames(p).kv.presence`
 * under `presenceKey(mechanic_id, instance_id)`. Entries expire with the bucket's TTL unless the
 * instance refreshes them, so a crashed instance leaves nothing behind for long.
 */
export const PresenceEntrySchema = z.object({
  mechanic_id: z.uuid(),
  instance_id: z.string(),
  /** 0: the last socket closed at `updated_at` (the entry then lives out the bucket's TTL). */
  connections: z.number().int().min(0),
  updated_at: z.iso.datetime({ offset: true }),
});
export type PresenceEntry = z.infer<typeof PresenceEntrySchema>;

/** KV key of a mechanic's presence on one instance; `kv.keys(presenceKeysOf(id))` lists them all. */
export function presenceKey(mechanicId: string, instanceId: string): string {
  return `${mechanicId}.${instanceId}`;
}
/** KV key filter matching every instance a mechanic is connected to. */
export function presenceKeysOf(mechanicId: string): string {
  return `${mechanicId}.>`;
}

/** Every frame the server sends (CONTRACT §4): the gateway's own and the relayed notifications. */
export const ServerFrameSchema = z.discriminatedUnion('type', [
  HelloFrameSchema,
  SnapshotFrameSchema,
  ResultFrameSchema,
  ErrorFrameSchema,
  PongFrameSchema,
  TokenExpiringFrameSchema,
  NotificationSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
