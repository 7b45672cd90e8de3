import { randomUUID } from 'node:crypto';
import type { RequestEvent, SessionRequest } from '@dibs/contracts';
import { SESSION_REQUEST_FIELDS } from '@dibs/db';
import type { TestDatabase } from '@dibs/testing';
import { chooseOutcome, type GeneratedRequest, lifecycle, MINUTE, prng, SEQUENCE_OUTCOMES } from './lifecycle.js';
import { sequenceLifecycle } from './sequence-lifecycle.js';

export * from './lifecycle.js';

export interface History {
  mechanics: { id: string; name: string; status: string }[];
  requests: GeneratedRequest[];
  favoritedBy: Map<string, number>;
  events: RequestEvent[];
  /**
   * Where the requests booked as before issue 12 begin (ISO): every request created from here
   * on is a single-priority or broadcast one, every one before it an issue-12 life.
   */
  singlesFrom: string;
}

/**
 * Writes a history of `count` requests over every outcome, preceded by `sequences` issue-12
 * lives (ranked favorites in sequence, a preferred mechanic found unavailable) cycling through
 * their outcomes, into `db` (mechanics, customers, favorites, session_requests in their final
 * state) and returns the events routing would have published for them, built from the rows with
 * `requestEvent` as routing does. Timestamps have millisecond precision, as in an event's ISO strings.
 */
export async function generateHistory(
  db: TestDatabase,
  count = 320,
  seed = 42,
  sequences = Math.ceil(count / 3),
): Promise<History> {
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
  // The issue-12 lives, in the hours before the first single one: a range filter tells them apart.
  // Offers go to busy mechanics only (the rare one stays below the seed's threshold); every tier
  // skipped as not approved is the suspended mechanic's.
  for (let j = 0; j < sequences; j++) {
    const favorites = shuffled(busy, rnd)
      .slice(0, 3)
      .map((m) => m.id);
    const others = approved.filter((m) => !favorites.includes(m.id));
    const req = sequenceLifecycle(SEQUENCE_OUTCOMES[j % SEQUENCE_OUTCOMES.length]!, {
      customer: pick(customers),
      favorites,
      notApproved: suspended.id,
      other: pick(others).id,
      created: start - (sequences - j) * 60 * MINUTE + between(0, 30 * MINUTE),
      rnd,
      between,
    });
    requests.push(req);
  }
  for (const r of requests) await insertRow(db, r.final);
  return {
    mechanics,
    requests,
    favoritedBy,
    events: requests.flatMap((r) => r.events),
    singlesFrom: new Date(start).toISOString(),
  };
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The request's columns (not its derived offers) as a session_requests row. */
async function insertRow(db: TestDatabase, r: SessionRequest): Promise<void> {
  await db.query(
    `insert into session_requests (${SESSION_REQUEST_FIELDS.join(', ')})
     values (${SESSION_REQUEST_FIELDS.map((_, i) => `$${i + 1}`).join(', ')})`,
    SESSION_REQUEST_FIELDS.map((f) => r[f]),
  );
}
