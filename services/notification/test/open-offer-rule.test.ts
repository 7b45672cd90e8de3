import type { RequestStatus } from '@dibs/contracts';
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
import { openOfferKind } from '../src/domain/rules/open-offer.js';

const NOW = Date.UTC(2027, 0, 4, 12);
const MINUTE = 60_000;
const ME = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

// Instants around NOW, with the boundaries (exactly now, a millisecond either side) often.
const offset = fc.oneof(
  { arbitrary: fc.constantFrom(-1, 0, 1), weight: 2 },
  { arbitrary: fc.integer({ min: -30 * MINUTE, max: 30 * MINUTE }), weight: 1 },
);

/** A request as routing can leave it, and the mechanic whose snapshot is read at NOW. */
const stateArb = fc.record({
  status: fc.constantFrom<RequestStatus>('pending', 'pending', 'pending', 'accepted', 'cancelled'),
  preferred: fc.constantFrom(ME, ME, OTHER, null),
  // The window's deadline, relative to NOW; routing stores priority_notified_at and
  // priority_expires_at together, or neither.
  deadline: fc.option(offset, { nil: null, freq: 4 }),
  broadcast: fc.option(offset, { nil: null, freq: 2 }),
  declinedByMe: fc.constantFrom(false, false, false, true),
  declinedByOther: fc.boolean(),
  approved: fc.boolean(),
});

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
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('the open-offer rule', () => {
  it('lists a request in the snapshot, and as which kind, exactly when openOfferKind says so', async () => {
    const seen = { priority: 0, broadcast: 0, none: 0 };
    await fc.assert(
      fc.asyncProperty(stateArb, async (s) => {
        const at = (o: number | null) => (o === null ? null : new Date(NOW + o));
        const { rows } = await db.query<SessionRequestRecord>(
          `insert into session_requests (customer_id, session_type, plan_code, status, routing_type,
             preferred_mechanic_id, priority_window_minutes, priority_notified_at, priority_expires_at, broadcast_at,
             mechanic_id)
           values ($1, 'video', 'basic', $2, 'priority_broadcast', $3, 10, $4, $5, $6, $7)
           returning ${SESSION_REQUEST_COLUMNS}`,
          [
            customerId,
            s.status,
            s.preferred,
            s.deadline === null ? null : at(s.deadline - 10 * MINUTE),
            at(s.deadline),
            at(s.broadcast),
            s.status === 'accepted' ? OTHER : null,
          ],
        );
        const request = toSessionRequest(rows[0] as SessionRequestRecord);
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
          const listed = open.filter((o) => o.request.id === request.id).map((o) => o.kind);
          seen[expected ?? 'none']++;
          expect(listed).toEqual(expected === null ? [] : [expected]);
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
  });
});
