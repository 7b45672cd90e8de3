import { WebSocket } from 'ws';
import type { Connection } from './connection.js';
import { type ConnectionHub, yieldToLoop } from './hub.js';

export interface HeartbeatOptions {
  intervalMs: number;
  /** A peer that did not answer the previous ping. */
  onDead(conn: Connection): void;
  /** A close the gateway started that the peer never completed (e.g. a stalled slow client). */
  onStuckClose(conn: Connection): void;
}

/**
 * Pings every socket once per interval. A socket that has not answered the previous ping by the
 * next sweep is dead: it is dropped between one and two intervals after it went silent.
 */
export function startHeartbeat(hub: ConnectionHub, { intervalMs, onDead, onStuckClose }: HeartbeatOptions) {
  const stuckAfterMs = Math.max(2 * intervalMs, 5000);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void sweep().finally(() => {
      running = false;
    });
  }, intervalMs);
  timer.unref();

  async function sweep(): Promise<void> {
    const now = Date.now();
    let n = 0;
    for (const conn of hub.all) {
      if (conn.closingSince !== 0) {
        if (now - conn.closingSince > stuckAfterMs) onStuckClose(conn);
      } else if (!conn.alive) {
        onDead(conn);
      } else if (conn.ws.readyState === WebSocket.OPEN) {
        conn.alive = false;
        conn.ws.ping();
      }
      if (++n % 1000 === 0) await yieldToLoop();
    }
  }

  return {
    stop() {
      clearInterval(timer);
    },
  };
}
