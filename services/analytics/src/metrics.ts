import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface AnalyticsMetrics {
  processed: Counter<'kind'>;
  rejected: Counter;
  failedBatches: Counter;
  /** Seconds from an event's `occurred_at` (a seen ack's `seen_at`) to its facts being committed here. */
  eventLag: Histogram;
}

/**
 * The consumer's backlog (messages not yet delivered plus delivered but unacked), read from
 * the server at each scrape: the signal to scale analytics replicas on.
 */
export function registerBacklogGauge(registry: Registry, pending: () => Promise<number>): void {
  new Gauge({
    name: 'analytics_consumer_pending_messages',
    help: 'Events in the stream not yet projected by the analytics consumer (pending + unacked)',
    registers: [registry],
    async collect() {
      const n = await pending().catch(() => undefined);
      if (n !== undefined) this.set(n);
    },
  });
}

/** Analytics' own counters on the service registry. */
export function createAnalyticsMetrics(registry: Registry): AnalyticsMetrics {
  return {
    processed: new Counter({
      name: 'analytics_events_processed_total',
      help: 'Lifecycle events (by kind) and seen acks (kind "seen") projected into the read model',
      labelNames: ['kind'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'analytics_events_rejected_total',
      help: 'Messages terminated as unreadable (not JSON, unknown version, invalid)',
      registers: [registry],
    }),
    failedBatches: new Counter({
      name: 'analytics_batches_failed_total',
      help: 'Batches that could not be written and were handed back for redelivery',
      registers: [registry],
    }),
    eventLag: new Histogram({
      name: 'analytics_event_lag_seconds',
      help: "Seconds from an event's occurred_at until analytics committed it",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
