import { randomUUID } from 'node:crypto';
import type { RequestEvent, SeenEvent } from '@dibs/contracts';
import { SESSION_REQUEST_FIELDS } from '@dibs/db';
import type { TestDatabase } from '@dibs/testing';
import {
  chooseOutcome,
  type GeneratedRequest,
  lifecycle,
  MINUTE,
  PRIORITY_OUTCOMES,
  prng,
  SEQUENCE_OUTCOMES,
} from './lifecycle.js';
import { sequenceLifecycle } from './sequence-lifecycle.js';

export * from './lifecycle.js';

/** An experiment as intake stores it (`experiments.arms`). */
export interface ExperimentDef {
  key: string;
  arms: { name: string; window_minutes: number; weight: number }[];
}

/**
 * The experiments of the generated history: the one the reports are checked on, whose third arm
 * no request is enrolled in, and an older one whose requests must not count in the first.
 */
export const EXPERIMENTS: readonly ExperimentDef[] = [
  {
    key: 'window-length',
    arms: [
      { name: 'short', window_minutes: 6, weight: 1 },
      { name: 'long', window_minutes: 15, weight: 1 },
      { name: 'unused', window_minutes: 30, weight: 1 },
    ],
  },
  {
    key: 'older-test',
    arms: [
      { name: 'a', window_minutes: 8, weight: 1 },
      { name: 'b', window_minutes: 12, weight: 1 },
    ],
  },
];

/** Single requests that may be enrolled: a preferred mechanic and no workshop (CONTRACT §7). */
const ENROLLABLE: ReadonlySet<string> = new Set([...PRIORITY_OUTCOMES, 'flag_off', 'priority_failed']);

export interface History {
  mechanics: { id: string; name: string; status: string }[];
  requests: GeneratedRequest[];
  favoritedBy: Map<string, number>;
  /** Every favorite, as `customer_id:mechanic_id`. */
  favorites: Set<string>;
  events: RequestEvent[];
  /** The first seen ack of each (request, mechanic), as the gateway publishes them. */
  seen: SeenEvent[];
  /** Later repeats of some acks (later `seen_at`), published without a message id. */
  seenRepeats: SeenEvent[];
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
  const favorites = new Set<string>();
  // The first four customers have no favorite (the revenue report's "other customers").
  for (const c of customers.slice(4)) {
    for (const m of mechanics) {
      if (rnd() < 0.3) {
        await db.query(`insert into favorites (customer_id, mechanic_id) values ($1, $2)`, [c.id, m.id]);
        favoritedBy.set(m.id, (favoritedBy.get(m.id) ?? 0) + 1);
        favorites.add(`${c.id}:${m.id}`);
      }
    }
  }
  for (const e of EXPERIMENTS) {
    await db.query(`insert into experiments (key, arms) values ($1, $2::jsonb)`, [e.key, JSON.stringify(e.arms)]);
  }
  const [current, older] = EXPERIMENTS as [ExperimentDef, ExperimentDef];
  const enrol = (outcome: string) => {
    if (!ENROLLABLE.has(outcome)) return null;
    const x = rnd();
    const [key, arm] =
      x < 0.45
        ? [current, current.arms[0]!]
        : x < 0.8
          ? [current, current.arms[1]!]
          : x < 0.9
            ? [older, pick(older.arms)]
            : [];
    return key && arm ? { key: key.key, arm: arm.name, window_minutes: arm.window_minutes } : null;
  };

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
      // The single requests' period is priced in EUR only (and an unknown plan).
      plan: pick(['basic', 'plus', 'legacy']),
      experiment: enrol(outcome),
    });
    requests.push(req);
  }
  // The issue-12 lives, in the hours before the first single one: a range filter tells them apart.
  // Offers go to busy mechanics only (the rare one stays below the seed's threshold); every tier
  // skipped as not approved is the suspended mechanic's.
  for (let j = 0; j < sequences; j++) {
    const ranked = shuffled(busy, rnd)
      .slice(0, 3)
      .map((m) => m.id);
    // Never the rare mechanic: its earnings stay in the single requests' one currency.
    const others = approved.filter((m) => !ranked.includes(m.id) && m !== rare);
    const req = sequenceLifecycle(SEQUENCE_OUTCOMES[j % SEQUENCE_OUTCOMES.length]!, {
      customer: pick(customers),
      favorites: ranked,
      notApproved: suspended.id,
      other: pick(others).id,
      created: start - (sequences - j) * 60 * MINUTE + between(0, 30 * MINUTE),
      rnd,
      between,
      // Priced in EUR and USD (and an unknown plan): the whole history spans two currencies.
      plan: pick(['basic', 'intl', 'legacy']),
    });
    requests.push(req);
  }
  for (const r of requests) await insertRow(db, r);
  return {
    mechanics,
    requests,
    favoritedBy,
    favorites,
    events: requests.flatMap((r) => r.events),
    seen: requests.flatMap((r) => r.seen),
    seenRepeats: requests.flatMap((r) => r.seenRepeats),
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

/** The request's columns (not its derived offers), its experiment arm and its price as a session_requests row. */
async function insertRow(db: TestDatabase, { final: r, price }: GeneratedRequest): Promise<void> {
  const values = [
    ...SESSION_REQUEST_FIELDS.map((f) => r[f]),
    r.experiment?.key ?? null,
    r.experiment?.arm ?? null,
    price?.cents ?? null,
    price?.currency ?? null,
  ];
  await db.query(
    `insert into session_requests
       (${SESSION_REQUEST_FIELDS.join(', ')}, experiment_key, experiment_arm, price_cents, currency)
     values (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  );
}
