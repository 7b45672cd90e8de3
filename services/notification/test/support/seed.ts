import { randomUUID } from 'node:crypto';
import { SESSION_REQUEST_COLUMNS, type SessionRequestRecord, toSessionRequest } from '@dibs/db';
import type { TestDatabase } from '@dibs/testing';

export async function seedMechanic(
  db: TestDatabase,
  status: 'approved' | 'pending' | 'suspended' = 'approved',
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'Mo', 'Mechanic', $2, $3)`,
    [id, `${id}@example.test`, status],
  );
  return id;
}

export async function seedCustomer(db: TestDatabase, name = 'Casey Customer'): Promise<string> {
  const id = randomUUID();
  await db.query(`insert into customers (id, name, email) values ($1, $2, $3)`, [id, name, `${id}@example.test`]);
  return id;
}

export interface RequestSeed {
  customerId: string;
  preferredMechanicId?: string | null;
  /** A priority window open until `expiresInMs` from now. */
  priorityForMs?: number;
  broadcast?: boolean;
  status?: 'pending' | 'accepted' | 'cancelled';
  fallbackReason?: string | null;
}

/** Inserts a session request in the state a test needs (as routing would have left it). */
export async function seedRequest(db: TestDatabase, seed: RequestSeed): Promise<string> {
  const id = randomUUID();
  const priority = seed.priorityForMs !== undefined;
  await db.query(
    `insert into session_requests (id, customer_id, customer_name, customer_email, session_type, plan_code, status,
       routing_type, preferred_mechanic_id, priority_window_minutes, priority_notified_at, priority_expires_at,
       broadcast_at, fallback_reason)
     values ($1, $2, 'Casey Customer', 'casey@example.test', 'diagnostic', 'basic', $3, $4, $5, 10,
       case when $6 then now() end, case when $6 then now() + ($7 || ' milliseconds')::interval end,
       case when $8 then now() end, $9)`,
    [
      id,
      seed.customerId,
      seed.status ?? 'pending',
      seed.preferredMechanicId ? 'priority_broadcast' : 'broadcast',
      seed.preferredMechanicId ?? null,
      priority,
      String(seed.priorityForMs ?? 0),
      seed.broadcast ?? false,
      seed.fallbackReason ?? null,
    ],
  );
  return id;
}

/** The tier of a sequence that a test opened: who has it, for how long, until when. */
export interface OpenTier {
  tier: number;
  mechanicId: string;
  windowMinutes: number;
  expiresAt: string;
}

/**
 * Inserts a pending `priority_sequence` request of `customerId` for the `ranked` mechanics (tier
 * windows 5, 3, 2 minutes) with its first tier open now, as routing leaves it after offering it:
 * rank 1 as `preferred_mechanic_id`, `priority_expires_at` null (the tiers hold the deadlines).
 */
export async function seedSequence(
  db: TestDatabase,
  customerId: string,
  ranked: string[],
): Promise<{ id: string; first: OpenTier }> {
  const id = randomUUID();
  const plan = ranked.map((mechanicId, i) => ({ mechanic_id: mechanicId, window_minutes: [5, 3, 2][i] }));
  await db.query(
    `insert into session_requests (id, customer_id, customer_name, customer_email, session_type, plan_code, status,
       routing_type, preferred_mechanic_id, priority_window_minutes, priority_tiers, priority_notified_at)
     values ($1, $2, 'Casey Customer', 'casey@example.test', 'diagnostic', 'basic', 'pending',
       'priority_sequence', $3, 5, $4, now())`,
    [id, customerId, ranked[0], JSON.stringify(plan)],
  );
  const first = await nextTier(db, id);
  if (first === null) throw new Error('a sequence needs a ranked mechanic');
  return { id, first };
}

/**
 * Moves a sequence on as routing does when a tier's window ends unanswered: the open tier times
 * out, and the next rank's tier opens now; after the last one the request is broadcast
 * (`priority_timeout`) and the answer is null.
 */
export async function nextTier(db: TestDatabase, requestId: string): Promise<OpenTier | null> {
  await db.query(
    `update session_request_offers set outcome = 'timeout', ended_at = now() where request_id = $1 and outcome is null`,
    [requestId],
  );
  const { rows } = await db.query<{ plan: { mechanic_id: string; window_minutes: number }[]; reached: number }>(
    `select priority_tiers as plan, (select count(*)::int from session_request_offers where request_id = $1) as reached
     from session_requests where id = $1`,
    [requestId],
  );
  const { plan, reached } = rows[0] as { plan: { mechanic_id: string; window_minutes: number }[]; reached: number };
  const next = plan[reached];
  if (next === undefined) {
    await db.query(
      `update session_requests set broadcast_at = now(), fallback_reason = 'priority_timeout' where id = $1`,
      [requestId],
    );
    return null;
  }
  const opened = await db.query<{ expires_at: Date }>(
    `insert into session_request_offers (request_id, tier, mechanic_id, window_minutes, offered_at, expires_at)
     values ($1, $2, $3, $4, now(), now() + make_interval(mins => $4)) returning expires_at`,
    [requestId, reached + 1, next.mechanic_id, next.window_minutes],
  );
  return {
    tier: reached + 1,
    mechanicId: next.mechanic_id,
    windowMinutes: next.window_minutes,
    expiresAt: (opened.rows[0] as { expires_at: Date }).expires_at.toISOString(),
  };
}

/** The request as the contract shows it, its offers included (for notifications the test publishes). */
export async function requestRow(db: TestDatabase, id: string) {
  const { rows } = await db.query<SessionRequestRecord>(
    `select ${SESSION_REQUEST_COLUMNS} from session_requests where id = $1`,
    [id],
  );
  return toSessionRequest(rows[0] as SessionRequestRecord);
}
