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

/** Seen acks of priority offers (CONTRACT §7): offer → first `seen`, and offers whose window ended unseen. */
const seenFields = {
  avg_seen_seconds: z.number().nullable(),
  offers_never_seen: z.number().int(),
};

export const SuccessRateRowSchema = z.object({
  mechanic_id: z.uuid(),
  mechanic_name: z.string(),
  total_priority_requests: z.number().int(),
  accepted_by_preferred: z.number().int(),
  priority_success_rate: z.number(),
  ...seenFields,
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
/** Money of one currency: integer cents, never summed across currencies. */
export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. EUR');

export const MechanicStatsSchema = z.object({
  favorited_by: z.number().int(),
  priority_requests: z.number().int(),
  priority_accepted: z.number().int(),
  priority_acceptance_rate: z.number(),
  avg_priority_response_seconds: z.number().nullable(),
  /** Customers with at least two requests accepted by this mechanic (CONTRACT §7). */
  repeat_customers: z.number().int(),
  /**
   * Accepted requests priced by their plan, in `earnings_currency`; null (with `earnings_by_currency`
   * listing each) when this mechanic's earnings span several currencies, 0 when there are none.
   */
  earnings_cents: z.number().int().nullable(),
  /** The part of `earnings_cents` from customers who have this mechanic among their favorites. */
  earnings_from_favorites_cents: z.number().int().nullable(),
  earnings_currency: CurrencySchema.nullable(),
  earnings_by_currency: z.array(
    z.object({
      currency: CurrencySchema,
      earnings_cents: z.number().int(),
      earnings_from_favorites_cents: z.number().int(),
    }),
  ),
  ...seenFields,
});

/** An experiment's arms (CONTRACT §7): how each window length did. */
export const ExperimentQuerySchema = z.object({ key: z.string().min(1) });
export const ExperimentReportSchema = z.object({
  key: z.string(),
  arms: z.array(
    z.object({
      name: z.string(),
      window_minutes: z.number().int(),
      requests: z.number().int(),
      accepted_by_preferred: z.number().int(),
      /** Percentages rounded to 2 decimals; null when the arm has no request. */
      acceptance_rate: z.number().nullable(),
      /** Wilson score interval at 95 %, in percent, bounds rounded to 2 decimals; null without requests. */
      acceptance_rate_ci95: z.tuple([z.number(), z.number()]).nullable(),
      avg_response_seconds: z.number().nullable(),
      timeout_rate: z.number().nullable(),
      median_seconds_to_any_accept: z.number().nullable(),
    }),
  ),
});

/** Revenue by the path a request took (CONTRACT §7), in one currency. */
export const REVENUE_PATHS = ['priority_accepted', 'fallback_accepted', 'broadcast_accepted'] as const;
export const RevenueQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Which currency to report; needed when the period's priced requests span several (409 otherwise). */
  currency: CurrencySchema.optional(),
});
export const RevenueReportSchema = z.object({
  currency: CurrencySchema.nullable(),
  by_path: z.array(
    z.object({
      path: z.enum(REVENUE_PATHS),
      requests: z.number().int(),
      accepted: z.number().int(),
      revenue_cents: z.number().int(),
    }),
  ),
  favorite_customers_ltv_cents: z.number().int().nullable(),
  other_customers_ltv_cents: z.number().int().nullable(),
  unpriced_requests: z.number().int(),
});

export type SuccessRateRow = z.infer<typeof SuccessRateRowSchema>;
export type ResponseTimes = z.infer<typeof ResponseTimesSchema>;
export type TimeoutRate = z.infer<typeof TimeoutRateSchema>;
export type FallbackEffectiveness = z.infer<typeof FallbackEffectivenessSchema>;
export type PrioritySkips = z.infer<typeof PrioritySkipsSchema>;
export type MechanicStatsQuery = z.infer<typeof MechanicStatsQuerySchema>;
export type MechanicStats = z.infer<typeof MechanicStatsSchema>;
export type ExperimentQuery = z.infer<typeof ExperimentQuerySchema>;
export type ExperimentReport = z.infer<typeof ExperimentReportSchema>;
export type RevenueQuery = z.infer<typeof RevenueQuerySchema>;
export type RevenueReport = z.infer<typeof RevenueReportSchema>;

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
  experiment: { query: ExperimentQuerySchema, data: ExperimentReportSchema },
  revenue: { query: RevenueQuerySchema, data: RevenueReportSchema },
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
    ANALYTICS_REPORT_SCHEMAS.experiment.data,
    ANALYTICS_REPORT_SCHEMAS.revenue.data,
  ]),
);
export type ReportReply = z.infer<typeof ReportReplySchema>;
