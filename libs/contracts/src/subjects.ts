/**
 * Every NATS name dibs owns, relative to NATS_PREFIX.
 *
 * WARNING: once shipped, a name here never changes: streams, durable consumers and stored outbox
 * rows refer to them. Add new names; never rename old ones.
 */
export const EVENT_KINDS = ['created', 'priority_notified', 'broadcast', 'accepted', 'declined', 'cancelled'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const ROUTING_COMMANDS = ['accept', 'decline', 'cancel'] as const;
export type RoutingCommand = (typeof ROUTING_COMMANDS)[number];

export const ANALYTICS_REPORTS = [
  'success_rate',
  'response_times',
  'timeout_rate',
  'fallback_effectiveness',
  'mechanic_stats',
  'priority_skips',
  'experiment',
  'revenue',
] as const;
export type AnalyticsReport = (typeof ANALYTICS_REPORTS)[number];

/**
 * Subject names *relative to the prefix*; this is what the outbox stores, so a stored row never
 * depends on the deployment it was written in.
 *
 * Retired, never to be reused: `notify.mechanic.<id>`, `notify.mechanics`, `notify.customer.<id>`
 * and the stream `<P>_NOTIFY`. Notifications travel inside lifecycle events since issue 9.
 */
export const relative = {
  event: <K extends EventKind>(kind: K) => `events.request.${kind}` as const,
  /** Seen acks (CONTRACT §7), in the EVENTS stream beside the lifecycle events. */
  seen: 'events.offer.seen',
  routingCommand: <C extends RoutingCommand>(command: C) => `cmd.routing.${command}` as const,
  analyticsReport: <R extends AnalyticsReport>(report: R) => `cmd.analytics.${report}` as const,
} as const;

/** Absolute names for one deployment (one NATS_PREFIX). */
export function natsNames(prefix: string) {
  const abs = (rel: string) => `${prefix}.${rel}`;
  return {
    prefix,
    abs,
    streams: {
      events: `${prefix}_EVENTS`,
    },
    consumers: {
      routingCreated: `${prefix}_routing_created`,
      analytics: `${prefix}_analytics`,
    },
    kv: {
      presence: `${prefix}_presence`,
    },
    subjects: {
      eventsAll: abs('events.>'),
      event: (kind: EventKind) => abs(relative.event(kind)),
      seen: abs(relative.seen),
      routingCommand: (cmd: RoutingCommand) => abs(relative.routingCommand(cmd)),
      analyticsReport: (report: AnalyticsReport) => abs(relative.analyticsReport(report)),
    },
    queues: {
      routing: `${prefix}_routing`,
      analytics: `${prefix}_analytics`,
    },
  };
}
export type NatsNames = ReturnType<typeof natsNames>;
