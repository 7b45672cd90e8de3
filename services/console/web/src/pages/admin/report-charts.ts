import type {
  ExperimentReport,
  FallbackEffectiveness,
  ResponseTimes,
  RevenueReport,
  SuccessRateRow,
  TimeoutRate,
} from '@dibs/client';
import type { ChartConfiguration } from 'chart.js';
import { COLORS } from '../../charts.js';

// The reports as Chart.js configurations: plain data, so a chart is redrawn only when its numbers change.

const percentAxis = { y: { min: 0, max: 100, title: { display: true, text: '%' } } };

export function successRateChart(rows: SuccessRateRow[]): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.mechanic_name),
      datasets: [
        {
          label: 'priority success rate (%)',
          data: rows.map((r) => r.priority_success_rate),
          backgroundColor: COLORS[0],
        },
      ],
    },
    options: { scales: percentAxis, plugins: { legend: { display: false } } },
  };
}

export function responseTimesChart(t: ResponseTimes): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: ['fastest', 'average', 'slowest'],
      datasets: [
        {
          label: 'minutes',
          data: [t.min_response_minutes ?? 0, t.avg_response_minutes ?? 0, t.max_response_minutes ?? 0],
          backgroundColor: [COLORS[1], COLORS[0], COLORS[2]],
        },
      ],
    },
    options: {
      scales: { y: { min: 0, title: { display: true, text: 'minutes' } } },
      plugins: { legend: { display: false } },
    },
  };
}

export function ratesChart(timeouts: TimeoutRate, fallbacks: FallbackEffectiveness): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: ['windows that timed out', 'fallbacks accepted'],
      datasets: [
        {
          label: '%',
          data: [timeouts.timeout_rate, fallbacks.fallback_success_rate],
          backgroundColor: [COLORS[2], COLORS[1]],
        },
      ],
    },
    options: { scales: percentAxis, plugins: { legend: { display: false } } },
  };
}

/** Each arm's 95 % interval as a floating bar, its acceptance rate as a point on it. */
export function experimentChart(report: ExperimentReport): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: report.arms.map((a) => `${a.name} (${a.window_minutes} min)`),
      datasets: [
        {
          type: 'bar',
          label: '95 % interval',
          data: report.arms.map((a) => a.acceptance_rate_ci95 ?? null) as unknown as number[],
          backgroundColor: 'rgba(37, 99, 235, 0.25)',
          borderColor: COLORS[0],
          borderWidth: 1,
        },
        {
          type: 'line',
          label: 'acceptance rate',
          data: report.arms.map((a) => a.acceptance_rate),
          showLine: false,
          pointRadius: 6,
          pointStyle: 'rectRot',
          backgroundColor: COLORS[3],
          borderColor: COLORS[3],
        },
      ],
    },
    options: { scales: percentAxis },
  };
}

export function revenueChart(revenue: RevenueReport): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: revenue.by_path.map((p) => p.path.replace('_', ' ')),
      datasets: [
        {
          label: `revenue${revenue.currency ? ` (${revenue.currency})` : ''}`,
          data: revenue.by_path.map((p) => p.revenue_cents / 100),
          backgroundColor: revenue.by_path.map((_, i) => COLORS[i % COLORS.length] as string),
        },
      ],
    },
    options: { scales: { y: { min: 0 } }, plugins: { legend: { display: false } } },
  };
}
