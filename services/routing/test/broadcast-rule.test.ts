import type { FallbackReason } from '@dibs/contracts';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRouting } from '../src/domain/routing-decision.js';
import { type BroadcastTrigger, mayBroadcast, windowDue } from '../src/domain/rules/broadcast.js';
import {
  anyWindowDue,
  broadcastDueWindows,
  findRequest,
  markBroadcast,
  toState,
} from '../src/repositories/session-requests.repository.js';
import { insertRuleRequest, MINUTE, NOW, offsetArb, type RuleDatabase, ruleDatabase } from './support/rule-database.js';

const PREFERRED = '11111111-1111-4111-8111-111111111111';

/** A request as routing can leave it, and a broadcast someone tries to write at NOW + `at`. */
const stateArb = fc.record({
  status: fc.constantFrom('pending', 'pending', 'pending', 'accepted', 'cancelled'),
  // The window's deadline, relative to NOW; routing stores priority_notified_at and
  // priority_expires_at together, or neither.
  deadline: fc.option(offsetArb, { nil: null, freq: 2 }),
  windowMinutes: fc.integer({ min: 1, max: 30 }),
  broadcast: fc.option(offsetArb, { nil: null, freq: 2 }),
  trigger: fc.constantFrom<BroadcastTrigger>('route', 'timeout', 'declined'),
  at: offsetArb,
});
type State = typeof stateArb extends fc.Arbitrary<infer T> ? T : never;

const REASON: Record<BroadcastTrigger, FallbackReason> = {
  route: 'priority_failed',
  timeout: 'priority_timeout',
  declined: 'priority_declined',
};

let rules: RuleDatabase;
let client: pg.Client;
let customerId: string;

beforeAll(async () => {
  rules = await ruleDatabase();
  ({ client, customerId } = rules);
  await client.query(
    `insert into mechanics (id, first_name, last_name, email, status) values ($1, 'P', 'Ref', 'p@x.test', 'approved')`,
    [PREFERRED],
  );
});

afterAll(async () => {
  await rules?.close();
});

/** Runs `fn` on `s` inserted as the only request, then rolls it back. */
async function withRequest<T>(s: State, fn: (id: string) => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const id = await insertRuleRequest(client, customerId, {
      status: s.status,
      preferred: PREFERRED,
      windowMinutes: s.windowMinutes,
      deadline: s.deadline,
      broadcast: s.broadcast,
      winner: s.status === 'accepted' ? PREFERRED : null,
    });
    return await fn(id);
  } finally {
    await client.query('rollback');
  }
}

async function stateOf(id: string) {
  const row = await findRequest(client, id);
  if (!row) throw new Error('inserted request not found');
  return toState(row);
}

describe('the broadcast rule', () => {
  it('lets markBroadcast write exactly when mayBroadcast holds, for every trigger', async () => {
    const seen = { written: 0, skipped: 0 };
    await fc.assert(
      fc.asyncProperty(stateArb, (s) =>
        withRequest(s, async (id) => {
          const allowed = mayBroadcast(await stateOf(id), s.trigger, NOW + s.at);
          const written = await markBroadcast(
            client,
            [{ id, reason: REASON[s.trigger], at: new Date(NOW + s.at) }],
            s.trigger,
          );
          seen[written.length > 0 ? 'written' : 'skipped']++;
          expect(written.length > 0).toBe(allowed);
        }),
      ),
      { seed: 20270105, numRuns: 500 },
    );
    // Both answers were exercised, not one of them every time.
    expect(seen.written).toBeGreaterThan(50);
    expect(seen.skipped).toBeGreaterThan(50);
  });

  it('lets the window sweeper find and broadcast exactly the windows windowDue names', async () => {
    const seen = { due: 0, notDue: 0 };
    await fc.assert(
      fc.asyncProperty(stateArb, (s) =>
        withRequest(s, async (id) => {
          const due = windowDue(await stateOf(id), NOW + s.at);
          expect(await anyWindowDue(client, new Date(NOW + s.at))).toBe(due);
          const swept = await broadcastDueWindows(client, new Date(NOW + s.at), 10);
          seen[due ? 'due' : 'notDue']++;
          expect(swept.map((r) => r.id)).toEqual(due ? [id] : []);
        }),
      ),
      { seed: 20270106, numRuns: 500 },
    );
    // Both answers were exercised, not one of them every time.
    expect(seen.due).toBeGreaterThan(20);
    expect(seen.notDue).toBeGreaterThan(20);
  });

  it('lets every broadcast decideRouting makes pass the guard it names', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.boolean(),
        fc.constantFrom('approved', 'pending', null),
        fc.boolean(),
        fc.boolean(),
        (s, priorityEnabled, mechanicStatus, declined, available) => {
          const state = {
            id: '33333333-3333-4333-8333-333333333333',
            customer_id: '44444444-4444-4444-8444-444444444444',
            status: s.status as 'pending' | 'accepted' | 'cancelled',
            routing_type: 'priority_broadcast' as const,
            preferred_mechanic_id: PREFERRED,
            preferred_workshop_id: null,
            priority_window_minutes: s.windowMinutes,
            priority_notified_at: s.deadline === null ? null : NOW + s.deadline - s.windowMinutes * MINUTE,
            priority_expires_at: s.deadline === null ? null : NOW + s.deadline,
            broadcast_at: s.broadcast === null ? null : NOW + s.broadcast,
            mechanic_id: s.status === 'accepted' ? PREFERRED : null,
            priority_tiers: null,
            offers: [],
          };
          const decision = decideRouting({
            request: state,
            priorityEnabled,
            mechanic: mechanicStatus === null ? null : { id: PREFERRED, status: mechanicStatus },
            mechanics: new Map(),
            available: new Map([[PREFERRED, available]]),
            declined: declined ? [PREFERRED] : [],
            now: NOW + s.at,
            minuteMs: MINUTE,
          });
          if (decision.kind === 'broadcast') expect(mayBroadcast(state, decision.trigger, NOW + s.at)).toBe(true);
        },
      ),
      { seed: 20270107, numRuns: 1000 },
    );
  });
});
