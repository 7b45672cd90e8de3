import type {
  ExperimentReport,
  FallbackEffectiveness,
  ResponseTimes,
  RevenueReport,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/client';
import { money, num } from '../../format.js';
import { Empty } from '../../ui.js';

// The numbers behind each chart, as the API sent them (rates in %, rounded by analytics).

export function SuccessRateTable({ rows }: { rows: SuccessRateRow[] }) {
  if (rows.length === 0) return <Empty>No mechanic has enough priority requests yet.</Empty>;
  return (
    <div class="table-wrap">
      <table aria-label="Priority success rate by mechanic">
        <thead>
          <tr>
            <th scope="col">Mechanic</th>
            <th scope="col">Priority requests</th>
            <th scope="col">Accepted by them</th>
            <th scope="col">Success rate (%)</th>
            <th scope="col">Seen after (s)</th>
            <th scope="col">Never seen</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.mechanic_id}>
              <th scope="row">{r.mechanic_name}</th>
              <td>{r.total_priority_requests}</td>
              <td>{r.accepted_by_preferred}</td>
              <td>{num(r.priority_success_rate)}</td>
              <td>{num(r.avg_seen_seconds)}</td>
              <td>{r.offers_never_seen}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ResponseTimesTable({ times }: { times: ResponseTimes }) {
  return (
    <div class="table-wrap">
      <table aria-label="Response times (minutes)">
        <tbody>
          <tr>
            <th scope="row">Average (min)</th>
            <td>{num(times.avg_response_minutes)}</td>
          </tr>
          <tr>
            <th scope="row">Fastest (min)</th>
            <td>{num(times.min_response_minutes)}</td>
          </tr>
          <tr>
            <th scope="row">Slowest (min)</th>
            <td>{num(times.max_response_minutes)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function RatesTable({ timeouts, fallbacks }: { timeouts: TimeoutRate; fallbacks: FallbackEffectiveness }) {
  return (
    <div class="table-wrap">
      <table aria-label="Timeout and fallback rates">
        <thead>
          <tr>
            <th scope="col">Report</th>
            <th scope="col">Of</th>
            <th scope="col">Count</th>
            <th scope="col">Rate (%)</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Timed out</th>
            <td>{timeouts.total_priority_requests}</td>
            <td>{timeouts.timed_out}</td>
            <td>{num(timeouts.timeout_rate)}</td>
          </tr>
          <tr>
            <th scope="row">Accepted after fallback</th>
            <td>{fallbacks.total_fallbacks}</td>
            <td>{fallbacks.accepted_after_fallback}</td>
            <td>{num(fallbacks.fallback_success_rate)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function ExperimentTable({ report }: { report: ExperimentReport }) {
  return (
    <div class="table-wrap">
      <table aria-label={`Arms of experiment ${report.key}`}>
        <thead>
          <tr>
            <th scope="col">Arm</th>
            <th scope="col">Window (min)</th>
            <th scope="col">Requests</th>
            <th scope="col">Accepted</th>
            <th scope="col">Acceptance (%)</th>
            <th scope="col">95 % interval (%)</th>
            <th scope="col">Answer (s)</th>
            <th scope="col">Timeouts (%)</th>
            <th scope="col">Median to any accept (s)</th>
          </tr>
        </thead>
        <tbody>
          {report.arms.map((a) => (
            <tr key={a.name}>
              <th scope="row">{a.name}</th>
              <td>{a.window_minutes}</td>
              <td>{a.requests}</td>
              <td>{a.accepted_by_preferred}</td>
              <td>{num(a.acceptance_rate)}</td>
              <td>{a.acceptance_rate_ci95 ? `${a.acceptance_rate_ci95[0]}–${a.acceptance_rate_ci95[1]}` : '—'}</td>
              <td>{num(a.avg_response_seconds)}</td>
              <td>{num(a.timeout_rate)}</td>
              <td>{num(a.median_seconds_to_any_accept)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RevenueTable({ revenue }: { revenue: RevenueReport }) {
  return (
    <div class="table-wrap">
      <table aria-label="Revenue by path">
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Requests</th>
            <th scope="col">Accepted</th>
            <th scope="col">Revenue</th>
          </tr>
        </thead>
        <tbody>
          {revenue.by_path.map((p) => (
            <tr key={p.path}>
              <th scope="row">{p.path}</th>
              <td>{p.requests}</td>
              <td>{p.accepted}</td>
              <td>{money(p.revenue_cents, revenue.currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Per customer with favorites</th>
            <td colSpan={3}>{money(revenue.favorite_customers_ltv_cents, revenue.currency)}</td>
          </tr>
          <tr>
            <th scope="row">Per other customer</th>
            <td colSpan={3}>{money(revenue.other_customers_ltv_cents, revenue.currency)}</td>
          </tr>
          <tr>
            <th scope="row">Unpriced requests</th>
            <td colSpan={3}>{revenue.unpriced_requests}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
