import { contracts, type NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { serve } from '@dibs/nats';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { reportFilter } from '../domain/report-query.js';
import type { InsightsRepository } from '../repositories/insights.repository.js';
import type { ReportsRepository } from '../repositories/reports.repository.js';

/**
 * Serves each report on its registry entry (`cmd.analytics.<report>`) in analytics' queue group;
 * the reply is `{ok:true, data}` with `data` exactly the HTTP body of CONTRACT §3, which intake
 * returns as is. The entry's reply schema types `data`; it is not parsed here.
 */
export function serveReports(
  nc: NatsConnection,
  names: NatsNames,
  reports: ReportsRepository,
  insights: InsightsRepository,
  logger: Logger,
): Subscription[] {
  const queue = names.queues.analytics;
  const { analytics } = contracts;
  return [
    serve(
      nc,
      names,
      analytics.success_rate,
      queue,
      async (q) => ok(await reports.successRate(reportFilter(q))),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.response_times,
      queue,
      async (q) => ok(await reports.responseTimes(reportFilter(q))),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.timeout_rate,
      queue,
      async (q) => ok(await reports.timeoutRate(reportFilter(q))),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.fallback_effectiveness,
      queue,
      async (q) => ok(await reports.fallbackEffectiveness(reportFilter(q))),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.priority_skips,
      queue,
      async (q) => ok(await reports.prioritySkips(reportFilter(q))),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.mechanic_stats,
      queue,
      async (q) => ok(await reports.mechanicStats(q.mechanic_id)),
      logger,
    ),
    serve(
      nc,
      names,
      analytics.experiment,
      queue,
      async (q) => {
        const report = await insights.experiment(q.key);
        return report ? ok(report) : { ok: false, code: 'not_found', detail: `no experiment ${q.key}` };
      },
      logger,
    ),
    // `mixed_currencies` (intake: 409) when the period spans several currencies and none is asked.
    serve(nc, names, analytics.revenue, queue, (q) => insights.revenue(reportFilter(q), q.currency), logger),
  ];
}

function ok<D>(data: D): { ok: true; data: D } {
  return { ok: true, data };
}
