import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What became of a client's `seen` (CONTRACT §7). */
export type SeenAckOutcome = 'forwarded' | 'repeat' | 'not_offered' | 'publish_failed';

/** Why the gateway ended a connection, or refused a frame. */
export type DisconnectReason =
  | 'client'
  | 'slow_consumer'
  | 'heartbeat_timeout'
  | 'abuse'
  | 'token_expired'
  | 'shutdown'
  | 'snapshot_failed';

/** The gateway's Prometheus metrics; `connections` is what the HPA scales replicas on. */
export function createGatewayMetrics(
  registry: Registry,
  connectionsByRole: () => Record<string, number>,
  longestDeliverySliceMs: () => number,
) {
  new Gauge({
    name: 'dibs_gateway_delivery_slice_max_seconds',
    help: 'Longest the event loop was held by one stretch of a delivery since the previous scrape (deliveries yield every few ms)',
    registers: [registry],
    collect() {
      this.set(longestDeliverySliceMs() / 1000);
    },
  });
  new Gauge({
    name: 'dibs_gateway_connections',
    help: 'Open WebSocket connections on this replica, by role',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const counts = connectionsByRole();
      for (const role of ['mechanic', 'customer']) this.set({ role }, counts[role] ?? 0);
    },
  });
  // Counted in a plain object on the hot path (one broadcast = thousands of writes) and handed
  // to Prometheus when scraped.
  const sent: Record<string, number> = {};
  const reported: Record<string, number> = {};
  new Counter({
    name: 'dibs_gateway_frames_sent_total',
    help: 'Frames written to client sockets, by type',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      for (const [type, n] of Object.entries(sent)) {
        const delta = n - (reported[type] ?? 0);
        if (delta > 0) this.inc({ type }, delta);
        reported[type] = n;
      }
    },
  });
  return {
    countSent(type: string, n = 1): void {
      sent[type] = (sent[type] ?? 0) + n;
    },
    /** Frames written so far, by type (tests and the bench read it). */
    sent: sent as Readonly<Record<string, number>>,
    framesDropped: new Counter({
      name: 'dibs_gateway_frames_dropped_total',
      help: 'Frames not sent: repeats of an event already sent on the connection, or client frames refused',
      labelNames: ['reason'],
      registers: [registry],
    }),
    disconnects: new Counter({
      name: 'dibs_gateway_disconnects_total',
      help: 'Connections ended, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    handshakeRejections: new Counter({
      name: 'dibs_gateway_handshake_rejections_total',
      help: 'Handshakes refused before the upgrade, by HTTP status',
      labelNames: ['status'],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'dibs_gateway_notifications_total',
      help: 'Notifications read from lifecycle events, by frame type ("ignored": an event not understood; "unaddressed": for nobody connected here)',
      labelNames: ['type'],
      registers: [registry],
    }),
    seenAcks: new Counter({
      name: 'dibs_gateway_seen_acks_total',
      help: 'Seen acks from clients, by outcome: forwarded (published), repeat (dropped), not_offered (refused), publish_failed',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'dibs_gateway_delivery_seconds',
      help: 'Time to hand one notification to every local socket it addresses',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
