import { describe, expect, it } from 'vitest';
import type { CustomerLog, MechanicLog } from '../src/lib/chaos-actors.js';
import { type CheckInput, checkRun, type Row, type StoredEvent } from '../src/lib/chaos-checks.js';

// The chaos run's verdicts are only worth something if each one fires on the state it names.
const T = Date.parse('2026-11-29T12:00:00Z');
const at = (ms: number) => new Date(T + ms);
const MECH_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const MECH_B = 'aaaaaaaa-0000-4000-8000-000000000002';

function row(id: string, patch: Partial<Row> = {}): Row {
  return {
    id,
    status: 'pending',
    preferred_mechanic_id: MECH_A,
    priority_notified_at: at(0),
    priority_expires_at: at(2000),
    broadcast_at: at(2010),
    fallback_reason: 'priority_timeout',
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    ...patch,
  };
}

/** The events a correct run publishes for `r`, one per change. */
function eventsOf(r: Row): StoredEvent[] {
  const e = (kind: StoredEvent['kind']) => ({ id: `${r.id}-${kind}`, kind, requestId: r.id, actor: null });
  return [
    e('created'),
    ...(r.priority_notified_at ? [e('priority_notified')] : []),
    ...(r.broadcast_at ? [e('broadcast')] : []),
    ...(r.status === 'accepted' ? [e('accepted')] : []),
    ...(r.status === 'cancelled' ? [e('cancelled')] : []),
  ];
}

function input(rows: Row[], patch: Partial<CheckInput> = {}): CheckInput {
  const customers: CustomerLog = {
    acknowledged: rows.map((r) => ({ requestId: r.id, priority: true, attempts: 1 })),
    unexpected: [],
    retries: 0,
    abandoned: 0,
    cancels: [],
  };
  const mechanics: MechanicLog = { repeatedFrames: [], wins: new Map(), results: new Map(), connects: 0, offers: 0 };
  return {
    rows,
    events: rows.flatMap(eventsOf),
    customers,
    mechanics,
    routingUpThrough: () => true,
    lateToleranceMs: 1000,
    ...patch,
  };
}

const checks = (i: CheckInput) => checkRun(i).violations.map((v) => v.check);

describe('chaos checks', () => {
  it('find nothing in a run where everything held', () => {
    const accepted = row('r2', {
      status: 'accepted',
      mechanic_id: MECH_A,
      accepted_at: at(500),
      broadcast_at: null,
      fallback_reason: null,
    });
    const i = input([row('r1'), accepted]);
    i.mechanics.wins.set('r2', new Set([MECH_A]));
    expect(checkRun(i).violations).toEqual([]);
  });

  it('name an acknowledged booking that is not in the database', () => {
    const i = input([row('r1')]);
    i.customers.acknowledged.push({ requestId: 'r-lost', priority: true, attempts: 2 });
    expect(checks(i)).toContain('acknowledged booking missing from the database');
  });

  it('name a retried booking stored twice', () => {
    const i = input([row('r1'), row('r2')]);
    i.customers.acknowledged.pop();
    expect(checks(i)).toContain('bookings doubled by retries');
  });

  it('name a request nobody routed', () => {
    const stuck = row('r1', {
      priority_notified_at: null,
      priority_expires_at: null,
      broadcast_at: null,
      fallback_reason: null,
    });
    expect(checks(input([stuck]))).toContain('request stuck: pending, never broadcast, no window open');
  });

  it('name a window broadcast before its deadline, and one broadcast late while routing ran', () => {
    expect(checks(input([row('r1', { broadcast_at: at(1500) })]))).toContain('window broadcast before its deadline');
    const late = row('r1', { broadcast_at: at(3500) });
    expect(checks(input([late]))).toContain('window broadcast more than 1000 ms late while routing was up');
    // Late because no routing replica was running is what a crash costs, not a violation.
    const down = checkRun(input([late], { routingUpThrough: () => false }));
    expect(down.violations).toEqual([]);
    expect(down.figures.lateWhileRoutingDown).toBe(1);
  });

  it('name a request taken by another mechanic inside the window', () => {
    const r = row('r1', {
      status: 'accepted',
      mechanic_id: MECH_B,
      accepted_at: at(800),
      broadcast_at: null,
      fallback_reason: null,
    });
    expect(checks(input([r]))).toContain('another mechanic took the request inside the window');
  });

  it('name a change told twice and a change never told', () => {
    const r = row('r1');
    const twice = input([r]);
    twice.events.push({ id: 'other-id', kind: 'broadcast', requestId: 'r1', actor: null });
    expect(checks(twice)).toContain('broadcast event told twice (two event ids for one change)');
    const untold = input([r]);
    untold.events = untold.events.filter((e) => e.kind !== 'broadcast');
    expect(checks(untold)).toContain('change never told (row changed, no event)');
  });

  it('name two winners, and a winner the request does not name', () => {
    const r = row('r1', { status: 'accepted', mechanic_id: MECH_A, accepted_at: at(2500) });
    const two = input([r]);
    two.mechanics.wins.set('r1', new Set([MECH_A, MECH_B]));
    expect(checks(two)).toContain('mechanic told it won but the request is not theirs');
    const wrong = input([r]);
    wrong.mechanics.wins.set('r1', new Set([MECH_B]));
    expect(checks(wrong)).toContain('mechanic told it won but the request is not theirs');
  });

  it('name a frame repeated on one connection and a cancel answer the request contradicts', () => {
    const i = input([row('r1')]);
    i.mechanics.repeatedFrames.push({ mechanic: MECH_A, id: 'e1', type: 'new_request' });
    i.customers.cancels.push({ requestId: 'r1', status: 200 });
    expect(checks(i)).toEqual(
      expect.arrayContaining(['the same frame twice on one connection', 'cancel answer contradicted by the request']),
    );
  });
});
