import { GATEWAY_CLOSE_CODES } from '@dibs/contracts';
import { every } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import type { Connection } from '../connections/connection.js';
import { ownFrame } from '../connections/frames.js';
import { type ConnectionHub, yieldToLoop } from '../connections/hub.js';
import { closeConnection } from './context.js';

/** Warn this long before the token expires (only tokens that live longer than twice that get a warning). */
export const EXPIRY_WARNING_MS = 30_000;
/** How often expiries are checked: a socket closes at most this long after its token expired. */
const SWEEP_MS = 500;

/** When a connection's token expires (ms) and when to warn it (0: no warning). */
export function expiryTimes(exp: number, now: number): { expiresAt: number; warnAt: number } {
  const expiresAt = exp * 1000;
  return { expiresAt, warnAt: expiresAt - now > 2 * EXPIRY_WARNING_MS ? expiresAt - EXPIRY_WARNING_MS : 0 };
}

/**
 * Closes sockets whose token expired (4001) and warns them shortly before (`token_expiring`),
 * from one shared sweep instead of a timer per socket: two numbers per connection, not a timer.
 */
export function startExpirySweep(hub: ConnectionHub, clock: () => number, logger: Logger) {
  const periodic = every(SWEEP_MS, () => sweep(), { name: 'token expiry sweep', logger });

  async function sweep(): Promise<void> {
    const now = clock();
    let n = 0;
    for (const conn of hub.all) {
      if (conn.closingSince === 0) check(conn, now);
      if (++n % 5000 === 0) await yieldToLoop();
    }
  }

  function check(conn: Connection, now: number): void {
    if (now >= conn.expiresAt) {
      logger.info({ conn: conn.seq, user_id: conn.userId, role: conn.role }, 'token expired; closing');
      closeConnection(conn, GATEWAY_CLOSE_CODES.tokenExpired, 'token_expired');
    } else if (conn.warnAt !== 0 && now >= conn.warnAt) {
      conn.warnAt = 0;
      conn.write(ownFrame({ type: 'token_expiring', expires_at: new Date(conn.expiresAt).toISOString() }, now));
    }
  }

  return {
    stop() {
      void periodic.stop();
    },
  };
}
