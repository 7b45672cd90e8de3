import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FlagState } from './domain/feature-flag.js';

/** Routing's own series, next to the process and HTTP ones the shared registry already has. */
export function createRoutingMetrics(
  registry: Registry,
  sources: {
    openWindows: () => Promise<number>;
    openTiers: () => Promise<number>;
    outboxBacklog: () => Promise<number>;
    /** The feature flag as this replica's cache holds it (null: no such row; undefined: not loaded yet). */
    flag: () => FlagState | null | undefined;
  },
) {
  const registers = [registry];
  return {
    decisions: new Counter({
      name: 'routing_decisions_total',
      help: 'Routing decisions taken, by outcome (priority_offered, broadcast_<reason>, tier_offered, tier_skipped_<why>, wait, done)',
      labelNames: ['outcome'],
      registers,
    }),
    lateness: new Histogram({
      name: 'routing_window_lateness_seconds',
      help: 'How long after its deadline a priority window was broadcast, by which path fired it',
      labelNames: ['via'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    tierLateness: new Histogram({
      name: 'routing_tier_lateness_seconds',
      help: "How long after its deadline a sequence's tier ended (the next tier opened, or the broadcast), by which path ended it",
      labelNames: ['via'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    commands: new Counter({
      name: 'routing_commands_total',
      help: 'Accept/decline/cancel commands answered, by command and result code',
      labelNames: ['command', 'result'],
      registers,
    }),
    terminated: new Counter({
      name: 'routing_messages_terminated_total',
      help: 'Messages terminated because they were malformed or of an unknown version',
      registers,
    }),
    retries: new Counter({
      name: 'routing_message_retries_total',
      help: 'Messages handed back for a later retry because a dependency failed',
      registers,
    }),
    openWindows: new Gauge({
      name: 'routing_open_windows',
      help: 'Priority windows open right now (pending, offered to the preferred mechanic, not yet broadcast)',
      registers,
      async collect() {
        this.set(await sources.openWindows().catch(() => Number.NaN));
      },
    }),
    // The flag as this replica decides by it: an SRE sees a change arrive on every replica (and a
    // test awaits it) instead of guessing from the time it takes.
    openTiers: new Gauge({
      name: 'routing_open_tiers',
      help: "Sequences' tiers open right now (offered to a ranked favorite, not yet ended)",
      registers,
      async collect() {
        this.set(await sources.openTiers().catch(() => Number.NaN));
      },
    }),
    flagEnabled: new Gauge({
      name: 'routing_priority_flag_enabled',
      help: "Whether this replica's cached ENABLE_FAVORITES_PRIORITY is on (1) or off or absent (0); NaN before it is loaded",
      registers,
      collect() {
        const flag = sources.flag();
        this.set(flag === undefined ? Number.NaN : flag?.is_enabled ? 1 : 0);
      },
    }),
    outboxBacklog: new Gauge({
      name: 'routing_outbox_backlog',
      help: 'Outbox rows committed but not yet published to NATS',
      registers,
      async collect() {
        this.set(await sources.outboxBacklog().catch(() => Number.NaN));
      },
    }),
  };
}
export type RoutingMetrics = ReturnType<typeof createRoutingMetrics>;

type Instant = Date | string | null | undefined;

/** Records how late each window was broadcast (broadcast_at − priority_expires_at). */
export function observeLateness(
  metrics: RoutingMetrics,
  rows: { priority_expires_at: Instant; broadcast_at: Instant }[],
  via: 'redelivery' | 'sweeper',
): void {
  for (const row of rows) {
    if (!row.priority_expires_at || !row.broadcast_at) continue;
    const late = new Date(row.broadcast_at).getTime() - new Date(row.priority_expires_at).getTime();
    metrics.lateness.observe({ via }, Math.max(0, late) / 1000);
  }
}
