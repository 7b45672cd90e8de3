import { every } from '@dibs/http';
import { WebSocket } from 'ws';
import type { Connection } from './connection.js';
import type { ConnectionHub } from './hub.js';

export interface HeartbeatOptions {
  intervalMs: number;
  /** A peer that did not answer the previous ping. */
  onDead(conn: Connection): void;
  /** A close the gateway started that the peer never completed (e.g. a stalled slow client). */
  onStuckClose(conn: Connection): void;
}

/**
 * Pings every socket once per interval; a socket that has not answered its previous ping when
 * its turn comes again is dead, so a silent peer is dropped between one and two intervals after
 * it went quiet. The sockets are visited in a rolling slice every tick rather than all at once:
 * 10k pongs arriving together would hold the event loop for one long poll phase.
 */
export function startHeartbeat(hub: ConnectionHub, { intervalMs, onDead, onStuckClose }: HeartbeatOptions) {
  const tickMs = Math.min(1000, intervalMs);
  const stuckAfterMs = Math.max(2 * intervalMs, 5000);
  let cursor: Iterator<Connection> | undefined;

  const periodic = every(
    tickMs,
    () => {
      const now = Date.now();
      const slice = Math.ceil((hub.all.size * tickMs) / intervalMs);
      let restarted = false;
      cursor ??= hub.all.values();
      for (let visited = 0; visited < slice; ) {
        const next = cursor.next();
        if (next.done) {
          cursor = hub.all.values();
          if (restarted) break;
          restarted = true;
          continue;
        }
        visit(next.value, now);
        visited++;
      }
    },
    { name: 'heartbeat' },
  );

  // With few sockets a lap takes fewer ticks than an interval; each socket still gets one ping
  // per interval, and a whole interval to answer it.
  const dueAfterMs = intervalMs - tickMs;

  function visit(conn: Connection, now: number): void {
    if (conn.closingSince !== 0) {
      if (now - conn.closingSince > stuckAfterMs) onStuckClose(conn);
    } else if (now - conn.pingedAt < dueAfterMs) {
      return;
    } else if (!conn.alive) {
      onDead(conn);
    } else if (conn.ws.readyState === WebSocket.OPEN) {
      conn.alive = false;
      conn.pingedAt = now;
      conn.ws.ping();
    }
  }

  return {
    stop() {
      void periodic.stop();
    },
  };
}
