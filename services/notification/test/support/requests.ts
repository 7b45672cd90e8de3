import { randomUUID } from 'node:crypto';
import type { SessionRequest } from '@dibs/contracts';

/** A pending broadcast request as the contract shows it, with `overrides` (pure tests: no database). */
export function sessionRequest(overrides: Partial<SessionRequest> = {}): SessionRequest {
  return {
    id: randomUUID(),
    customer_id: randomUUID(),
    customer_name: 'Casey',
    customer_email: 'casey@example.test',
    session_type: 'diagnostic',
    plan_code: 'basic',
    status: 'pending',
    routing_type: 'broadcast',
    preferred_mechanic_id: null,
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: new Date(0).toISOString(),
    offers: [],
    current_tier: null,
    experiment: null,
    ...overrides,
  };
}
