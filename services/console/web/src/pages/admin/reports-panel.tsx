import type {
  Experiment,
  ExperimentReport,
  FallbackEffectiveness,
  ResponseTimes,
  RevenueReport,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/client';
import { useState } from 'preact/hooks';
import { ChartFigure } from '../../charts.js';
import { useConsole } from '../../context.js';
import { describeError, useResource } from '../../hooks.js';
import { Field, Panel } from '../../ui.js';
import { experimentChart, ratesChart, responseTimesChart, revenueChart, successRateChart } from './report-charts.js';
import { ExperimentTable, RatesTable, ResponseTimesTable, RevenueTable, SuccessRateTable } from './report-tables.js';

/** Each report's answer, or why there is none. */
type Answer<T> = { ok: true; data: T } | { ok: false; error: string };

interface Reports {
  successRate: Answer<SuccessRateRow[]>;
  responseTimes: Answer<ResponseTimes>;
  timeoutRate: Answer<TimeoutRate>;
  fallbacks: Answer<FallbackEffectiveness>;
  revenue: Answer<RevenueReport>;
  experiment: Answer<ExperimentReport> | undefined;
}

const settle = <T,>(p: Promise<T>): Promise<Answer<T>> =>
  p.then(
    (data) => ({ ok: true as const, data }),
    (err: unknown) => ({ ok: false as const, error: describeError(err) }),
  );

/** A datetime-local value as the ISO instant the API takes (undefined when empty). */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** Charts of the analytics reports (CONTRACT §3, §7), each with its numbers. */
export function ReportsPanel({ experiments }: { experiments: Experiment[] }) {
  const { api } = useConsole();
  const [minRequests, setMinRequests] = useState('1');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [currency, setCurrency] = useState('');
  const [experimentKey, setExperimentKey] = useState('');
  const key = experimentKey || experiments.find((e) => e.active)?.key || experiments[0]?.key || '';
  const reports = useResource<Reports>(async () => {
    const range = { ...(instant(from) ? { from: instant(from) } : {}), ...(instant(to) ? { to: instant(to) } : {}) };
    const [successRate, responseTimes, timeoutRate, fallbacks, revenue, experiment] = await Promise.all([
      settle(api.analytics.successRate({ ...range, min_requests: Number(minRequests) || 0 })),
      settle(api.analytics.responseTimes(range)),
      settle(api.analytics.timeoutRate(range)),
      settle(api.analytics.fallbackEffectiveness(range)),
      settle(
        api.analytics.revenue({ ...range, ...(currency.trim() ? { currency: currency.trim().toUpperCase() } : {}) }),
      ),
      key ? settle(api.analytics.experiment(key)) : Promise.resolve(undefined),
    ]);
    return { successRate, responseTimes, timeoutRate, fallbacks, revenue, experiment };
  }, [key]);
  const r = reports.data;

  return (
    <Panel
      id="reports"
      title="Reports"
      actions={
        <button type="button" class="primary" onClick={reports.reload} disabled={reports.loading}>
          Refresh reports
        </button>
      }
    >
      <form
        class="row"
        aria-label="Report filters"
        onSubmit={(e) => {
          e.preventDefault();
          reports.reload();
        }}
      >
        <Field label="From">
          <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </Field>
        <Field label="To">
          <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </Field>
        <Field label="Least priority requests per mechanic">
          <input type="number" min={0} value={minRequests} onInput={(e) => setMinRequests(e.currentTarget.value)} />
        </Field>
        <Field label="Revenue currency" hint="Needed when plans use several.">
          <input maxLength={3} value={currency} placeholder="any" onInput={(e) => setCurrency(e.currentTarget.value)} />
        </Field>
        <Field label="Experiment">
          <select value={key} onChange={(e) => setExperimentKey(e.currentTarget.value)}>
            {experiments.length === 0 ? <option value="">none yet</option> : null}
            {experiments.map((e) => (
              <option key={e.key} value={e.key}>
                {e.key}
                {e.active ? ' (running)' : ''}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Apply filters</button>
      </form>
      <p class="hint" role="status" aria-busy={reports.loading}>
        {reports.loading ? 'Loading the reports…' : r ? 'Reports as analytics has them now.' : ''}
      </p>
      {reports.error ? (
        <p class="outcome outcome--error" role="alert">
          {describeError(reports.error)}
        </p>
      ) : null}
      {r ? (
        <div class="charts">
          <Report title="Priority success rate by mechanic" answer={r.successRate}>
            {(rows) => (
              <ChartFigure
                title="Priority success rate by mechanic"
                summary={
                  rows.map((row) => `${row.mechanic_name}: ${row.priority_success_rate} %`).join('; ') ||
                  'no mechanic yet'
                }
                config={successRateChart(rows)}
                wide
              >
                <SuccessRateTable rows={rows} />
              </ChartFigure>
            )}
          </Report>
          <Report title="Response times" answer={r.responseTimes}>
            {(times) => (
              <ChartFigure
                title="Response times of favorites (minutes)"
                summary={`average ${times.avg_response_minutes ?? 'none'}, fastest ${times.min_response_minutes ?? 'none'}, slowest ${times.max_response_minutes ?? 'none'} minutes`}
                config={responseTimesChart(times)}
              >
                <ResponseTimesTable times={times} />
              </ChartFigure>
            )}
          </Report>
          <Report title="Timeout and fallback rates" answer={both(r.timeoutRate, r.fallbacks)}>
            {([timeouts, fallbacks]) => (
              <ChartFigure
                title="Timeout and fallback rates (%)"
                summary={`timeout rate ${timeouts.timeout_rate} %, fallback success rate ${fallbacks.fallback_success_rate} %`}
                config={ratesChart(timeouts, fallbacks)}
              >
                <RatesTable timeouts={timeouts} fallbacks={fallbacks} />
              </ChartFigure>
            )}
          </Report>
          {r.experiment ? (
            <Report title="Experiment arms" answer={r.experiment}>
              {(report) => (
                <ChartFigure
                  title={`Experiment ${report.key}: acceptance rate by arm, with its 95 % interval`}
                  summary={report.arms
                    .map(
                      (a) =>
                        `${a.name}: ${a.acceptance_rate ?? 'no requests'} % (${a.acceptance_rate_ci95?.join('–') ?? 'no interval'})`,
                    )
                    .join('; ')}
                  config={experimentChart(report)}
                  wide
                >
                  <ExperimentTable report={report} />
                </ChartFigure>
              )}
            </Report>
          ) : null}
          <Report title="Revenue by path" answer={r.revenue}>
            {(revenue) => (
              <ChartFigure
                title={`Revenue by path${revenue.currency ? ` (${revenue.currency})` : ''}`}
                summary={
                  revenue.by_path.map((p) => `${p.path}: ${p.revenue_cents / 100}`).join('; ') || 'no revenue yet'
                }
                config={revenueChart(revenue)}
              >
                <RevenueTable revenue={revenue} />
              </ChartFigure>
            )}
          </Report>
        </div>
      ) : null}
    </Panel>
  );
}

function both<A, B>(a: Answer<A>, b: Answer<B>): Answer<[A, B]> {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return { ok: true, data: [a.data, b.data] };
}

function Report<T>({
  title,
  answer,
  children,
}: {
  title: string;
  answer: Answer<T>;
  children: (data: T) => preact.JSX.Element;
}) {
  if (answer.ok) return children(answer.data);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <p class="outcome outcome--error" role="alert">
        {answer.error}
      </p>
    </figure>
  );
}
