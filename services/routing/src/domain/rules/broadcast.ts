import type { RequestState } from '../request-state.js';

// When a broadcast may still be written: as a pure function of the request row and as the SQL
// guards of the UPDATEs that write it (markBroadcast, broadcastDueWindows). Two deciders can race
// on one request (a redelivered event, the window sweeper of another replica, a decline); each
// re-checks the rule at the moment of writing, so whichever comes second finds nothing to do.
// test/broadcast-rule.test.ts checks on PostgreSQL that the function and the SQL agree.

/** `route`: decided before any window opened; `timeout`: the window ended; `declined`: the preferred mechanic said no. */
export type BroadcastTrigger = 'route' | 'timeout' | 'declined';

/** A priority window is open, not broadcast, and its stored deadline is at or before `at`. */
export function windowDue(r: RequestState, at: number): boolean {
  return (
    r.status === 'pending' && r.broadcast_at === null && r.priority_expires_at !== null && r.priority_expires_at <= at
  );
}

/**
 * Whether a broadcast for `trigger`, written at `at`, still applies to the request as it is: it is
 * pending and was never broadcast, and a request routed straight to everyone must not have had a
 * window; a timeout needs the deadline to have passed; a decline ends the window whenever it comes.
 */
export function mayBroadcast(r: RequestState, trigger: BroadcastTrigger, at: number): boolean {
  if (r.status !== 'pending' || r.broadcast_at !== null) return false;
  switch (trigger) {
    case 'route':
      return r.priority_notified_at === null;
    case 'timeout':
      return windowDue(r, at);
    case 'declined':
      return true;
  }
}

/**
 * `windowDue` as SQL over the row alias `row` and the instant `at` (a placeholder or column). It
 * names the predicate of `session_requests_open_windows_idx`, so a query on it reads that index.
 */
export function windowDueSql(row: string, at: string): string {
  return `${row}.status = 'pending' and ${row}.broadcast_at is null and ${row}.priority_expires_at is not null
    and ${row}.priority_expires_at <= ${at}`;
}

/** `mayBroadcast` as SQL over the row alias `row` and the instant `at`. */
export function broadcastGuardSql(trigger: BroadcastTrigger, row: string, at: string): string {
  switch (trigger) {
    case 'route':
      return `${row}.status = 'pending' and ${row}.broadcast_at is null and ${row}.priority_notified_at is null`;
    case 'timeout':
      return windowDueSql(row, at);
    case 'declined':
      return `${row}.status = 'pending' and ${row}.broadcast_at is null`;
  }
}
