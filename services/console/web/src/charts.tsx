import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

// Only what the console draws: bars (floating bars for intervals) and points on a line chart.
Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
);

export const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626'];

/**
 * A report drawn as a chart, with its numbers in a table beneath (what a screen reader, a
 * printout or a test reads). `data-chart` says whether the canvas is drawn.
 */
export function ChartFigure({
  title,
  summary,
  config,
  wide = false,
  children,
}: {
  title: string;
  /** Takes the whole row (a wide table of numbers). */
  wide?: boolean;
  /** What the chart shows, in words, for the canvas' accessible name. */
  summary: string;
  config: ChartConfiguration | undefined;
  /** The numbers, usually a table. */
  children?: ComponentChildren;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const figure = useRef<HTMLElement>(null);
  const caption = useId();
  // Drawn again only when what it shows changes (configs hold data and options, no functions).
  const shown = config ? JSON.stringify(config) : '';
  useEffect(() => {
    if (!canvas.current || !config) return;
    const chart = new Chart(canvas.current, {
      ...config,
      options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
    });
    figure.current?.setAttribute('data-chart', 'drawn');
    return () => {
      chart.destroy();
      figure.current?.setAttribute('data-chart', 'none');
    };
  }, [shown]);
  return (
    <figure class={wide ? 'chart chart--wide' : 'chart'} ref={figure} aria-labelledby={caption} data-chart="none">
      <figcaption id={caption}>{title}</figcaption>
      {config ? (
        <div class="chart__canvas">
          <canvas ref={canvas} role="img" aria-label={summary} />
        </div>
      ) : null}
      {children}
    </figure>
  );
}
