import { z } from 'zod';
import { SessionRequestSchema } from './session-request.js';

/** Error codes a routing command can answer with; HTTP and WebSocket map them the same way. */
export const COMMAND_ERROR_CODES = [
  'not_found',
  'not_pending',
  'already_taken',
  'already_accepted',
  'priority_window_active',
  'mechanic_not_approved',
  'forbidden',
  'invalid_command',
  'unavailable',
] as const;
export const CommandErrorCodeSchema = z.enum(COMMAND_ERROR_CODES);
export type CommandErrorCode = z.infer<typeof CommandErrorCodeSchema>;

/** HTTP status for each command error code. */
export const COMMAND_ERROR_STATUS: Record<CommandErrorCode, number> = {
  not_found: 404,
  not_pending: 409,
  already_taken: 409,
  already_accepted: 409,
  priority_window_active: 409,
  mechanic_not_approved: 403,
  forbidden: 403,
  invalid_command: 400,
  unavailable: 503,
};

export const MechanicCommandSchema = z.object({ request_id: z.uuid(), mechanic_id: z.uuid() });
export type MechanicCommand = z.infer<typeof MechanicCommandSchema>;
export const CancelCommandSchema = z.object({ request_id: z.uuid(), customer_id: z.uuid() });
export type CancelCommand = z.infer<typeof CancelCommandSchema>;

export const CommandReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), request: SessionRequestSchema }),
  z.object({ ok: z.literal(false), code: CommandErrorCodeSchema, detail: z.string().optional() }),
]);
export type CommandReply = z.infer<typeof CommandReplySchema>;

/** Filters shared by the analytics reports. */
export const ReportQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  min_requests: z.coerce.number().int().min(0).optional(),
});
export type ReportQuery = z.infer<typeof ReportQuerySchema>;

export const SuccessRateRowSchema = z.object({
  mechanic_id: z.uuid(),
  mechanic_name: z.string(),
  total_priority_requests: z.number().int(),
  accepted_by_preferred: z.number().int(),
  priority_success_rate: z.number(),
});
export const ResponseTimesSchema = z.object({
  avg_response_minutes: z.number().nullable(),
  min_response_minutes: z.number().nullable(),
  max_response_minutes: z.number().nullable(),
});
export const TimeoutRateSchema = z.object({
  total_priority_requests: z.number().int(),
  timed_out: z.number().int(),
  timeout_rate: z.number(),
});
export const FallbackEffectivenessSchema = z.object({
  total_fallbacks: z.number().int(),
  accepted_after_fallback: z.number().int(),
  fallback_success_rate: z.number(),
});
export const MechanicStatsQuerySchema = z.object({ mechanic_id: z.uuid() });
export const MechanicStatsSchema = z.object({
  favorited_by: z.number().int(),
  priority_requests: z.number().int(),
  priority_accepted: z.number().int(),
  priority_acceptance_rate: z.number(),
  avg_priority_response_seconds: z.number().nullable(),
});

/** Reply of any analytics report: its data, or an error code. */
export const ReportReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), code: z.string(), detail: z.string().optional() }),
]);
export type ReportReply = z.infer<typeof ReportReplySchema>;
