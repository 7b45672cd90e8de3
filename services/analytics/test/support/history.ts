import { randomUUID } from 'node:crypto';
import type { EventKind, RequestEvent, SessionRequest } from '@dibs/contracts';
import { requestEvent } from '@dibs/db';
import type { TestDatabase } from '@dibs/testing';

/** How a generated request's life went; the hand-computed answers are counted from these. */
export const OUTCOMES = [
  'accepted_by_preferred',
  'timeout_accepted_by_other',
  'timeout_accepted_by_preferred',
  'timeout_pending',
  'timeout_cancelled',
  'declined_accepted_by_other',
  'declined_pending',
  'cancelled_in_window',
  'window_open',
  'flag_off',
  'priority_failed',
  'plain_broadcast',
  'workshop',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes where a priority window really happened (preferred mechanic + priority_notified_at). */
export const PRIORITY_OUTCOMES: ReadonlySet<Outcome> = new Set(OUTCOMES.slice(0, 9));

export interface GeneratedRequest {
  outcome: Outcome;
  /** The row as it ends, also inserted into session_requests. */
  final: SessionRequest;
  /** Lifecycle events in the order routing would have emitted them. */
  events: RequestEvent[];
}

export interface History {
  mechanics: { id: string; name: string; status: string }[];
  requests: GeneratedRequest[];
  favoritedBy: Map<string, number>;
  events: RequestEvent[];
}

/** A small seeded PRNG so a failing run can be replayed exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MINUTE = 60_000;
const WINDOW_MINUTES = 10;

/**
 * Writes a history of `count` requests over every outcome into `db` (mechanics, customers,
 * favorites, session_requests in their final state) and returns the events routing would have
 * published for them, built from the rows with `requestEvent` as routing does. Timestamps have
 * millisecond precision, as in an event's ISO strings.
 */
export async function generateHistory(db: TestDatabase, count = 320, seed = 42): Promise<History> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const between = (lo: number, hi: number) => Math.floor(lo + rnd() * (hi - lo));

  const mechanics: History['mechanics'] = [];
  for (let i = 0; i < 12; i++) {
    const status = i === 11 ? 'suspended' : 'approved';
    const { rows } = await db.query<{ id: string }>(
      `insert into mechanics (first_name, last_name, email, status) values ($1, $2, $3, $4) returning id`,
      [`Mech${i}`, `Last${i}`, `m${i}-${randomUUID()}@x.io`, status],
    );
    mechanics.push({ id: rows[0]!.id, name: `Mech${i} Last${i}`, status });
  }
  const approved = mechanics.filter((m) => m.status === 'approved');
  // Mechanic 10 gets at most four priority requests: below the seed's HAVING threshold.
  const busy = approved.slice(0, 10);
  const rare = approved[10]!;
  const suspended = mechanics[11]!;

  const customers: { id: string; name: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const { rows } = await db.query<{ id: string }>(
      `insert into customers (name, email) values ($1, $2) returning id`,
      [`Customer ${i}`, `c${i}-${randomUUID()}@x.io`],
    );
    customers.push({ id: rows[0]!.id, name: `Customer ${i}` });
  }
  const favoritedBy = new Map<string, number>();
  for (const c of customers) {
    for (const m of mechanics) {
      if (rnd() < 0.3) {
        await db.query(`insert into favorites (customer_id, mechanic_id) values ($1, $2)`, [c.id, m.id]);
        favoritedBy.set(m.id, (favoritedBy.get(m.id) ?? 0) + 1);
      }
    }
  }

  const now = Date.now();
  const start = now - 20 * 24 * 60 * MINUTE;
  const requests: GeneratedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const customer = pick(customers);
    // Each busy mechanic accepts with its own likelihood, so success rates differ per mechanic.
    const preferredIdx = between(0, busy.length);
    const preferred = i % 80 === 0 ? rare : busy[preferredIdx]!;
    const skill = preferred === rare ? 0.5 : (preferredIdx + 1) / (busy.length + 1);
    const outcome = chooseOutcome(rnd, skill, i === count - 1 || i === count - 2);
    const created =
      outcome === 'window_open' ? now - between(1, 5) * MINUTE : start + i * 60 * MINUTE + between(0, 30 * MINUTE);
    const others = approved.filter((m) => m.id !== preferred.id);
    const preferredFor = outcome === 'priority_failed' ? (rnd() < 0.5 ? suspended : preferred) : preferred;
    const req = lifecycle(outcome, {
      customer,
      preferred: outcome === 'plain_broadcast' ? null : preferredFor.id,
      other: pick(others).id,
      created,
      rnd,
      between,
    });
    requests.push(req);
  }
  for (const r of requests) await insertRow(db, r.final);
  return { mechanics, requests, favoritedBy, events: requests.flatMap((r) => r.events) };
}

function chooseOutcome(rnd: () => number, skill: number, windowOpen: boolean): Outcome {
  if (windowOpen) return 'window_open';
  const x = rnd();
  if (x < 0.6) {
    // A priority window: the preferred mechanic's skill decides how it ends.
    if (rnd() < skill) return 'accepted_by_preferred';
    const y = rnd();
    if (y < 0.35) return rnd() < 0.7 ? 'timeout_accepted_by_other' : 'timeout_accepted_by_preferred';
    if (y < 0.5) return 'timeout_pending';
    if (y < 0.58) return 'timeout_cancelled';
    if (y < 0.8) return rnd() < 0.7 ? 'declined_accepted_by_other' : 'declined_pending';
    return 'cancelled_in_window';
  }
  if (x < 0.72) return 'flag_off';
  if (x < 0.82) return 'priority_failed';
  if (x < 0.94) return 'plain_broadcast';
  return 'workshop';
}

interface LifeInput {
  customer: { id: string; name: string };
  preferred: string | null;
  other: string;
  created: number;
  rnd: () => number;
  between: (lo: number, hi: number) => number;
}

function lifecycle(outcome: Outcome, input: LifeInput): GeneratedRequest {
  const { customer, preferred, other, created, rnd, between } = input;
  const iso = (ms: number) => new Date(ms).toISOString();
  let row: SessionRequest = {
    id: randomUUID(),
    customer_id: customer.id,
    customer_name: customer.name,
    customer_email: null,
    session_type: 'video',
    plan_code: 'basic',
    status: 'pending',
    routing_type: preferred ? 'priority_broadcast' : 'broadcast',
    preferred_mechanic_id: preferred,
    preferred_workshop_id: outcome === 'workshop' ? randomUUID() : null,
    priority_window_minutes: WINDOW_MINUTES,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: iso(created),
  };
  const events: RequestEvent[] = [];
  const emit = (kind: EventKind, at: number, change: Partial<SessionRequest>, actor: string | null = null) => {
    row = { ...row, ...change };
    events.push(requestEvent(kind, row, { at: new Date(at), actorMechanicId: actor }).payload as RequestEvent);
  };
  emit('created', created, {});
  let t = created + between(50, 900);
  if (PRIORITY_OUTCOMES.has(outcome)) {
    const deadline = t + WINDOW_MINUTES * MINUTE;
    emit('priority_notified', t, { priority_notified_at: iso(t), priority_expires_at: iso(deadline) });
    const inWindow = t + between(2_000, WINDOW_MINUTES * MINUTE - 1_000);
    if (outcome === 'accepted_by_preferred') {
      emit('accepted', inWindow, { status: 'accepted', mechanic_id: preferred, accepted_at: iso(inWindow) }, preferred);
      return { outcome, final: row, events };
    }
    if (outcome === 'cancelled_in_window') {
      emit('cancelled', inWindow, { status: 'cancelled', cancelled_at: iso(inWindow) });
      return { outcome, final: row, events };
    }
    if (outcome === 'window_open') return { outcome, final: row, events };
    if (outcome.startsWith('declined')) {
      const fallback = { broadcast_at: iso(inWindow), fallback_reason: 'priority_declined' as const };
      emit('declined', inWindow, fallback, preferred);
      emit('broadcast', inWindow, fallback);
      t = inWindow;
    } else {
      t = deadline + between(5, 900);
      emit('broadcast', t, { broadcast_at: iso(t), fallback_reason: 'priority_timeout' });
    }
  } else {
    const reason = outcome === 'flag_off' ? 'flag_disabled' : outcome === 'priority_failed' ? 'priority_failed' : null;
    emit('broadcast', t, { broadcast_at: iso(t), fallback_reason: reason });
  }
  const after = t + between(1_000, 30 * MINUTE);
  const acceptedBy =
    outcome === 'timeout_accepted_by_preferred'
      ? preferred
      : outcome.endsWith('accepted_by_other')
        ? other
        : ['flag_off', 'priority_failed', 'plain_broadcast', 'workshop'].includes(outcome)
          ? pickEnding(rnd, outcome === 'flag_off' || outcome === 'workshop' ? (preferred ?? other) : other, other)
          : null;
  if (acceptedBy === 'cancel' || outcome === 'timeout_cancelled') {
    emit('cancelled', after, { status: 'cancelled', cancelled_at: iso(after) });
  } else if (acceptedBy) {
    emit('accepted', after, { status: 'accepted', mechanic_id: acceptedBy, accepted_at: iso(after) }, acceptedBy);
  }
  return { outcome, final: row, events };
}

/** A broadcast-only request ends accepted (sometimes by the mechanic it preferred), pending or cancelled. */
function pickEnding(rnd: () => number, preferredOrOther: string, other: string): string | null {
  const x = rnd();
  if (x < 0.3) return preferredOrOther;
  if (x < 0.7) return other;
  if (x < 0.85) return 'cancel';
  return null;
}

async function insertRow(db: TestDatabase, r: SessionRequest): Promise<void> {
  const cols = Object.keys(r);
  await db.query(
    `insert into session_requests (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
    Object.values(r),
  );
}
