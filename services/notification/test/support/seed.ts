import { randomUUID } from 'node:crypto';
import { type SessionRequestRecord, toSessionRequest } from '@dibs/db';
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

/** The request as the contract shows it (for notifications the test publishes). */
export async function requestRow(db: TestDatabase, id: string) {
  const { rows } = await db.query<SessionRequestRecord>('select * from session_requests where id = $1', [id]);
  return toSessionRequest(rows[0] as SessionRequestRecord);
}
