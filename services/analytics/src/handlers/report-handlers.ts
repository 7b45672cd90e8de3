import {
  type AnalyticsReport,
  MechanicStatsQuerySchema,
  type NatsNames,
  type ReportQuery,
  ReportQuerySchema,
  type ReportReply,
} from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { serveRequests } from '@dibs/nats';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { reportFilter } from '../domain/report-query.js';
import type { ReportsRepository } from '../repositories/reports.repository.js';

type Answer = (query: ReportQuery) => Promise<Extract<ReportReply, { ok: true }>['data']>;

/**
 * Serves each report on `cmd.analytics.<report>` in analytics' queue group; the reply is
 * `{ok:true, data}` with `data` exactly the HTTP body of CONTRACT §3, which intake returns as is.
 */
export function serveReports(
  nc: NatsConnection,
  names: NatsNames,
  reports: ReportsRepository,
  logger: Logger,
): Subscription[] {
  const answers: Record<Exclude<AnalyticsReport, 'mechanic_stats'>, Answer> = {
    success_rate: (q) => reports.successRate(reportFilter(q)),
    response_times: (q) => reports.responseTimes(reportFilter(q)),
    timeout_rate: (q) => reports.timeoutRate(reportFilter(q)),
    fallback_effectiveness: (q) => reports.fallbackEffectiveness(reportFilter(q)),
  };
  const subs = Object.entries(answers).map(([report, answer]) =>
    serveRequests(
      nc,
      names.subjects.analyticsReport(report as AnalyticsReport),
      names.queues.analytics,
      ReportQuerySchema,
      async (q): Promise<ReportReply> => ({ ok: true, data: await answer(q) }),
      logger,
    ),
  );
  subs.push(
    serveRequests(
      nc,
      names.subjects.analyticsReport('mechanic_stats'),
      names.queues.analytics,
      MechanicStatsQuerySchema,
      async (q): Promise<ReportReply> => ({ ok: true, data: await reports.mechanicStats(q.mechanic_id) }),
      logger,
    ),
  );
  return subs;
}
