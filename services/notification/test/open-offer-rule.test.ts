import type { OfferOutcome, RequestStatus, SessionRequest } from '@dibs/contracts';
import {
  createOrm,
  type Orm,
  SESSION_REQUEST_COLUMNS,
  type SessionRequestRecord,
  sqlOf,
  toSessionRequest,
} from '@dibs/db';
import { createTestDatabase, type TestDatabase } from '@dibs/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory, type Directory } from '../src/adapters/directory.repository.js';
import { openOfferKind, openPriorityOffer } from '../src/domain/rules/open-offer.js';

const NOW = Date.UTC(2027, 0, 4, 12);
const MINUTE = 60_000;
const ME = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const THIRD = '33333333-3333-4333-8333-333333333333';

// Instants around NOW, with the boundaries (exactly now, a millisecond either side) often.
const offset = fc.oneof(
  { arbitrary: fc.constantFrom(-1, 0, 1), weight: 2 },
  { arbitrary: fc.integer({ min: -30 * MINUTE, max: 30 * MINUTE }), weight: 1 },
);

/**
 * One tier of a sequence as routing can leave it: open (offered, no outcome yet), ended
 * (offered, then an outcome), or skipped (never offered). `deadline` is relative to NOW.
 */
const tierArb = fc.record({
  state: fc.constantFrom('open', 'open', 'ended', 'skipped'),
  deadline: offset,
  windowMinutes: fc.integer({ min: 1, max: 120 }),
  ended: fc.constantFrom<OfferOutcome>('accepted', 'declined', 'timeout', 'withdrawn'),
  skipped: fc.constantFrom<OfferOutcome>('skipped_unavailable', 'skipped_not_approved'),
});

/** A request as routing can leave it, and the mechanic whose snapshot is read at NOW. */
const stateArb = fc.record({
  status: fc.constantFrom<RequestStatus>('pending', 'pending', 'pending', 'accepted', 'cancelled'),
  preferred: fc.constantFrom(ME, ME, OTHER, null),
  // The window's deadline, relative to NOW; routing stores priority_notified_at and
  // priority_expires_at together, or neither. A sequence keeps them null while its tiers run, but
  // the rule must not rely on it: they are generated for sequences too.
  deadline: fc.option(offset, { nil: null, freq: 4 }),
  // A sequence: its ranked favorites (distinct, ME among them or not) and their tiers, in rank
  // order; its rank 1 is the preferred mechanic. Null: a request with one window (or none).
  sequence: fc.option(
    fc
      .shuffledSubarray([ME, ME, OTHER, THIRD], { minLength: 1, maxLength: 3 })
      .filter((ids) => new Set(ids).size === ids.length)
      .chain((ids) => fc.tuple(fc.constant(ids), fc.array(tierArb, { minLength: ids.length, maxLength: ids.length }))),
    { nil: null, freq: 2 },
  ),
  broadcast: fc.option(offset, { nil: null, freq: 2 }),
  declinedByMe: fc.constantFrom(false, false, false, true),
  declinedByOther: fc.boolean(),
  approved: fc.boolean(),
});
type State = typeof stateArb extends fc.Arbitrary<infer T> ? T : never;

let db: TestDatabase;
let orm: Orm;
let directory: Directory;
let customerId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.url, poolMax: 2 });
  directory = createDirectory(sqlOf(orm.em));
  const { rows } = await db.query(`insert into customers (name, email) values ('Dana', 'dana@x.test') returning id`);
  customerId = rows[0].id;
  // Their status plays no part: the snapshot takes the approval the handshake read.
  await db.query(
    `insert into mechanics (id, first_name, last_name, email, status)
     values ($1, 'M', 'E', 'me@x.test', 'approved'), ($2, 'O', 'Ther', 'other@x.test', 'approved')`,
    [ME, OTHER],
  );
  await db.query(
    `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'T', 'Hird', 'third@x.test', 'approved')`,
    [THIRD],
  );
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

/** Inserts the request `s` describes, with its tiers, and reads it back as the contract shows it. */
async function insertRequest(s: State): Promise<SessionRequest> {
  const at = (o: number | null) => (o === null ? null : new Date(NOW + o));
  const tiers =
    s.sequence === null ? [] : s.sequence[0].map((mechanicId, i) => ({ mechanicId, ...s.sequence?.[1][i] }));
  const { rows } = await db.query<{ id: string }>(
    `insert into session_requests (customer_id, session_type, plan_code, status, routing_type,
       preferred_mechanic_id, priority_window_minutes, priority_notified_at, priority_expires_at, broadcast_at,
       mechanic_id)
     values ($1, 'video', 'basic', $2, $3, $4, 10, $5, $6, $7, $8)
     returning id`,
    [
      customerId,
      s.status,
      s.sequence === null ? 'priority_broadcast' : 'priority_sequence',
      s.sequence === null ? s.preferred : tiers[0]?.mechanicId,
      s.deadline === null ? null : at(s.deadline - 10 * MINUTE),
      at(s.deadline),
      at(s.broadcast),
      s.status === 'accepted' ? OTHER : null,
    ],
  );
  const id = rows[0]?.id as string;
  for (const [i, t] of tiers.entries()) {
    const offered = t.state !== 'skipped';
    await db.query(
      `insert into session_request_offers (request_id, tier, mechanic_id, window_minutes, offered_at, expires_at,
         outcome, ended_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        i + 1,
        t.mechanicId,
        t.windowMinutes,
        offered ? at((t.deadline as number) - (t.windowMinutes as number) * MINUTE) : null,
        offered ? at(t.deadline as number) : null,
        t.state === 'open' ? null : t.state === 'ended' ? t.ended : t.skipped,
        t.state === 'open' ? null : new Date(NOW),
      ],
    );
  }
  const read = await db.query<SessionRequestRecord>(
    `select ${SESSION_REQUEST_COLUMNS} from session_requests where id = $1`,
    [id],
  );
  return toSessionRequest(read.rows[0] as SessionRequestRecord);
}

/** The window length stored for `mechanicId`'s window of `request`: its tier's, or the request's own. */
function windowOf(s: State, request: SessionRequest, mechanicId: string): number {
  if (s.sequence === null) return request.priority_window_minutes;
  return s.sequence[1][s.sequence[0].indexOf(mechanicId)]?.windowMinutes ?? Number.NaN;
}

describe('the open-offer rule', () => {
  it('lists a request in the snapshot, as which kind and with which window, exactly when openOfferKind says so', async () => {
    const seen = { priority: 0, broadcast: 0, none: 0, tier: 0, endedRankOne: 0 };
    await fc.assert(
      fc.asyncProperty(stateArb, async (s) => {
        const request = await insertRequest(s);
        try {
          for (const [mechanic, declined] of [
            [ME, s.declinedByMe],
            [OTHER, s.declinedByOther],
          ] as const) {
            if (declined) {
              await db.query('insert into session_request_declines (request_id, mechanic_id) values ($1, $2)', [
                request.id,
                mechanic,
              ]);
            }
          }
          const expected = openOfferKind(request, ME, s.approved, s.declinedByMe, NOW);
          const open = await directory.openRequests(ME, s.approved, NOW, 10);
          const listed = open.filter((o) => o.request.id === request.id);
          seen[expected ?? 'none']++;
          expect(listed.map((o) => o.kind)).toEqual(expected === null ? [] : [expected]);
          if (expected === 'priority') {
            const window = openPriorityOffer(request, ME, NOW);
            expect(listed[0]).toMatchObject({
              tier: window?.tier,
              expiresAt: window?.expires_at,
              windowMinutes: windowOf(s, request, ME),
            });
            if (s.sequence !== null) seen.tier++;
          }
          const rankOne = s.sequence?.[0][0] === ME && s.sequence[1][0]?.state !== 'open';
          if (rankOne && request.status === 'pending' && request.broadcast_at === null) {
            // Still the preferred mechanic, its tier over: no priority offer any more.
            expect(expected).toBeNull();
            seen.endedRankOne++;
          }
        } finally {
          await db.query('delete from session_requests where id = $1', [request.id]);
        }
      }),
      { seed: 20270110, numRuns: 600 },
    );
    // Every answer was exercised, not one of them every time.
    expect(seen.priority).toBeGreaterThan(15);
    expect(seen.broadcast).toBeGreaterThan(15);
    expect(seen.none).toBeGreaterThan(15);
    expect(seen.tier).toBeGreaterThan(10);
    expect(seen.endedRankOne).toBeGreaterThan(5);
  });
});
