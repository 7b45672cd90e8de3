import { z } from 'zod';
import { SessionRequestSchema } from './session-request.js';
import type { AnalyticsReport } from './subjects.js';

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
/** How often routing skipped a favorite instead of offering it (CONTRACT §6; services/analytics/README.md). */
export const PrioritySkipsSchema = z.object({
  priority_requests: z.number().int(),
  requests_with_skips: z.number().int(),
  skip_rate: z.number(),
  by_mechanic: z.array(
    z.object({
      mechanic_id: z.uuid(),
      mechanic_name: z.string(),
      skipped: z.number().int(),
      skipped_unavailable: z.number().int(),
      skipped_not_approved: z.number().int(),
    }),
  ),
});
export const MechanicStatsQuerySchema = z.object({ mechanic_id: z.uuid() });
export const MechanicStatsSchema = z.object({
  favorited_by: z.number().int(),
  priority_requests: z.number().int(),
  priority_accepted: z.number().int(),
  priority_acceptance_rate: z.number(),
  avg_priority_response_seconds: z.number().nullable(),
});

export type SuccessRateRow = z.infer<typeof SuccessRateRowSchema>;
export type ResponseTimes = z.infer<typeof ResponseTimesSchema>;
export type TimeoutRate = z.infer<typeof TimeoutRateSchema>;
export type FallbackEffectiveness = z.infer<typeof FallbackEffectivenessSchema>;
export type PrioritySkips = z.infer<typeof PrioritySkipsSchema>;
export type MechanicStatsQuery = z.infer<typeof MechanicStatsQuerySchema>;
export type MechanicStats = z.infer<typeof MechanicStatsSchema>;

/** The seed's `HAVING COUNT(*) >= 5`: the success-rate report's default `min_requests`. */
export const DEFAULT_MIN_PRIORITY_REQUESTS = 5;

/**
 * Each analytics report's request and its reply `data` (the HTTP body of CONTRACT §3), so a
 * caller of `analyticsReport(name)` validates both ends with the same schemas analytics uses.
 */
export const ANALYTICS_REPORT_SCHEMAS = {
  success_rate: { query: ReportQuerySchema, data: z.array(SuccessRateRowSchema) },
  response_times: { query: ReportQuerySchema, data: ResponseTimesSchema },
  timeout_rate: { query: ReportQuerySchema, data: TimeoutRateSchema },
  fallback_effectiveness: { query: ReportQuerySchema, data: FallbackEffectivenessSchema },
  mechanic_stats: { query: MechanicStatsQuerySchema, data: MechanicStatsSchema },
  priority_skips: { query: ReportQuerySchema, data: PrioritySkipsSchema },
} as const satisfies Record<AnalyticsReport, { query: z.ZodType; data: z.ZodType }>;

/** Reply of one analytics report: its `data` (the HTTP body of CONTRACT §3), or an error code. */
export function reportReplySchema<D extends z.ZodType>(data: D) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), code: z.string(), detail: z.string().optional() }),
  ]);
}

/**
 * Reply of any analytics report, for code that reads them all; one report's own reply schema is
 * `contracts.analytics[report].reply`.
 */
export const ReportReplySchema = reportReplySchema(
  z.union([
    ANALYTICS_REPORT_SCHEMAS.success_rate.data,
    ANALYTICS_REPORT_SCHEMAS.response_times.data,
    ANALYTICS_REPORT_SCHEMAS.timeout_rate.data,
    ANALYTICS_REPORT_SCHEMAS.fallback_effectiveness.data,
    ANALYTICS_REPORT_SCHEMAS.mechanic_stats.data,
    ANALYTICS_REPORT_SCHEMAS.priority_skips.data,
  ]),
);
export type ReportReply = z.infer<typeof ReportReplySchema>;
