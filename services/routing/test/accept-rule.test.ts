import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptVerdict } from '../src/domain/rules/accept.js';
import { findRequest, markAccepted, toState } from '../src/repositories/session-requests.repository.js';
import { insertRuleRequest, MINUTE, NOW, offsetArb, type RuleDatabase, ruleDatabase } from './support/rule-database.js';

const ACTING = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
/** A mechanic id with no row (deleted, or never existed). */
const GHOST = '99999999-9999-4999-8999-999999999999';

/** A request as routing can leave it, and who tries to accept it. */
const stateArb = fc.record({
  status: fc.constantFrom('pending', 'pending', 'pending', 'accepted', 'cancelled'),
  acceptedBy: fc.constantFrom('acting', 'other'),
  acting: fc.constantFrom('approved', 'approved', 'pending', 'suspended', 'missing'),
  preferred: fc.constantFrom('acting', 'other', null),
  // The window's deadline, relative to NOW; routing stores priority_notified_at and
  // priority_expires_at together, or neither.
  deadline: fc.option(offsetArb, { nil: null }),
  windowMinutes: fc.integer({ min: 1, max: 30 }),
  broadcast: fc.option(offsetArb, { nil: null, freq: 2 }),
  declined: fc.constantFrom(false, false, false, true),
});
type State = typeof stateArb extends fc.Arbitrary<infer T> ? T : never;

let rules: RuleDatabase;
let client: pg.Client;
let customerId: string;

beforeAll(async () => {
  rules = await ruleDatabase();
  ({ client, customerId } = rules);
});

afterAll(async () => {
  await rules?.close();
});

/** Inserts `s` (inside the caller's transaction) and returns the request's id and the acting mechanic's id. */
async function insert(s: State): Promise<{ id: string; mechanicId: string }> {
  const mechanicId = s.acting === 'missing' ? GHOST : ACTING;
  await client.query(
    `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'O', 'Ther', 'o@x.test', 'approved')`,
    [OTHER],
  );
  if (s.acting !== 'missing') {
    await client.query(
      `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'A', 'Cting', 'a@x.test', $2)`,
      [ACTING, s.acting],
    );
  }
  const preferred =
    s.preferred === 'other' ? OTHER : s.preferred === 'acting' && s.acting !== 'missing' ? ACTING : null;
  const winner = s.status !== 'accepted' ? null : s.acceptedBy === 'acting' && s.acting !== 'missing' ? ACTING : OTHER;
  const id = await insertRuleRequest(client, customerId, {
    status: s.status,
    preferred,
    windowMinutes: s.windowMinutes,
    deadline: s.deadline,
    broadcast: s.broadcast,
    winner,
  });
  if (s.declined && s.acting !== 'missing') {
    await client.query(`insert into session_request_declines (request_id, mechanic_id) values ($1, $2)`, [id, ACTING]);
  }
  return { id, mechanicId };
}

/** What the pure rule says of `mechanicId` accepting request `id` at NOW, and whether the guarded UPDATE let it win. */
async function acceptOnce(id: string, mechanicId: string) {
  const row = await findRequest(client, id);
  const { rows: m } = await client.query('select id, status from mechanics where id = $1', [mechanicId]);
  const verdict = acceptVerdict({
    request: row ? toState(row) : null,
    mechanicId,
    mechanic: m[0] ?? null,
    declinedByMechanic: row?.declined.includes(mechanicId) ?? false,
    now: NOW,
    minuteMs: MINUTE,
  });
  const won = (await markAccepted(client, id, mechanicId, new Date(NOW))) !== null;
  return { verdict, won };
}

describe('the accept rule', () => {
  it('lets the accept UPDATE win exactly when acceptVerdict grants a first win', async () => {
    const seen = { won: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(stateArb, async (s) => {
        await client.query('begin');
        try {
          const { id, mechanicId } = await insert(s);
          const { verdict, won } = await acceptOnce(id, mechanicId);
          seen[won ? 'won' : 'refused']++;
          expect(won).toBe(verdict.ok === true && !verdict.repeat);
        } finally {
          await client.query('rollback');
        }
      }),
      { seed: 20270104, numRuns: 500 },
    );
    // Both outcomes were exercised, not one of them every time.
    expect(seen.won).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
  });
});

/** A sequence as routing can leave it: tiers reached so far (the last one open or not), and who tries to accept. */
const sequenceArb = fc.record({
  status: fc.constantFrom('pending', 'pending', 'pending', 'accepted', 'cancelled'),
  acceptedBy: fc.constantFrom('acting', 'other'),
  acting: fc.constantFrom('approved', 'approved', 'pending', 'missing'),
  tiers: fc.array(fc.constantFrom('acting', 'other'), { minLength: 1, maxLength: 3 }),
  reached: fc.integer({ min: 0, max: 3 }),
  lastOpen: fc.boolean(),
  ended: fc.constantFrom('timeout', 'declined', 'skipped_unavailable', 'skipped_not_approved'),
  deadline: offsetArb,
  broadcast: fc.option(offsetArb, { nil: null, freq: 3 }),
  declined: fc.constantFrom(false, false, false, true),
});
type Sequence = typeof sequenceArb extends fc.Arbitrary<infer T> ? T : never;

/** Inserts `s` with its offers (inside the caller's transaction); returns the request's and the acting mechanic's ids. */
async function insertSequence(s: Sequence): Promise<{ id: string; mechanicId: string }> {
  const { id, mechanicId } = await insert({
    status: s.status,
    acceptedBy: s.acceptedBy,
    acting: s.acting,
    preferred: null,
    deadline: null,
    windowMinutes: 5,
    broadcast: s.broadcast,
    declined: s.declined,
  });
  const ids = s.tiers.map((t) => (t === 'acting' ? ACTING : OTHER));
  await client.query(
    `update session_requests set routing_type = 'priority_sequence', preferred_mechanic_id = $2, priority_tiers = $3
     where id = $1`,
    [
      id,
      ids[0] === ACTING && s.acting === 'missing' ? null : ids[0],
      JSON.stringify(ids.map((m) => ({ mechanic_id: m, window_minutes: 5 }))),
    ],
  );
  const reached = Math.min(s.reached, ids.length);
  for (let tier = 1; tier <= reached; tier++) {
    const open = tier === reached && s.lastOpen;
    const outcome = open ? null : tier === reached ? s.ended : 'timeout';
    const skipped = outcome === 'skipped_unavailable' || outcome === 'skipped_not_approved';
    const expires = new Date(NOW + s.deadline - (reached - tier) * 5 * MINUTE);
    await client.query(
      `insert into session_request_offers (request_id, tier, mechanic_id, window_minutes, offered_at, expires_at, outcome, ended_at)
       values ($1, $2, $3, 5, $4, $5, $6, $7)`,
      [
        id,
        tier,
        mechanicId === GHOST && ids[tier - 1] === ACTING ? GHOST : ids[tier - 1],
        skipped ? null : new Date(expires.getTime() - 5 * MINUTE),
        skipped ? null : expires,
        outcome,
        outcome === null ? null : expires,
      ],
    );
  }
  return { id, mechanicId };
}

describe('the accept rule of a sequence', () => {
  it('lets the accept UPDATE win exactly when acceptVerdict grants a first win: only the open tier’s mechanic before the broadcast', async () => {
    const seen = { won: 0, refused: 0, windowActive: 0 };
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (s) => {
        await client.query('begin');
        try {
          const { id, mechanicId } = await insertSequence(s);
          const { verdict, won } = await acceptOnce(id, mechanicId);
          seen[won ? 'won' : 'refused']++;
          if (verdict.ok === false && verdict.code === 'priority_window_active') seen.windowActive++;
          expect(won).toBe(verdict.ok === true && !verdict.repeat);
        } finally {
          await client.query('rollback');
        }
      }),
      { seed: 20261130, numRuns: 500 },
    );
    expect(seen.won).toBeGreaterThan(30);
    expect(seen.refused).toBeGreaterThan(30);
    expect(seen.windowActive).toBeGreaterThan(10);
  });
});
