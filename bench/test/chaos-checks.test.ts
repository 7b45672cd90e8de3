import { describe, expect, it } from 'vitest';
import type { MechanicLog } from '../src/lib/chaos-actors.js';
import { type CheckInput, checkRun, evidence, type Row, type StoredEvent, type Tier } from '../src/lib/chaos-checks.js';
import type { CustomerLog } from '../src/lib/chaos-http.js';

// The chaos run's verdicts are only worth something if each one fires on the state it names.
const T = Date.parse('2026-11-29T12:00:00Z');
const at = (ms: number) => new Date(T + ms);
const MECH_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const MECH_B = 'aaaaaaaa-0000-4000-8000-000000000002';
const MECH_C = 'aaaaaaaa-0000-4000-8000-000000000003';

function row(id: string, patch: Partial<Row> = {}): Row {
  return {
    id,
    status: 'pending',
    routing_type: 'priority_broadcast',
    preferred_mechanic_id: MECH_A,
    priority_notified_at: at(0),
    priority_expires_at: at(2000),
    broadcast_at: at(2010),
    fallback_reason: 'priority_timeout',
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    plan: null,
    tiers: [],
    ...patch,
  };
}

/** Tier `n` of a sequence: offered to `mechanic` at `from` ms for `windowMs` (skipped when `from` is null). */
function tier(
  n: number,
  mechanic: string,
  from: number | null,
  windowMs: number,
  outcome: Tier['outcome'],
  endMs: number | null,
): Tier {
  return {
    tier: n,
    mechanic_id: mechanic,
    offered_at: from === null ? null : at(from),
    expires_at: from === null ? null : at(from + windowMs),
    outcome,
    ended_at: endMs === null ? null : at(endMs),
  };
}

/**
 * A sequence over MECH_A, MECH_B, MECH_C (in that order): tier 1 timed out at its deadline (1000
 * ms), tier 2 offered at once and declined at 1300, tier 3's mechanic away, so it went to
 * everyone then for the declined tier.
 */
function sequence(id: string, patch: Partial<Row> = {}): Row {
  return row(id, {
    routing_type: 'priority_sequence',
    priority_expires_at: null,
    plan: [MECH_A, MECH_B, MECH_C],
    tiers: [
      tier(1, MECH_A, 0, 1000, 'timeout', 1010),
      tier(2, MECH_B, 1010, 600, 'declined', 1300),
      tier(3, MECH_C, null, 400, 'skipped_unavailable', 1300),
    ],
    broadcast_at: at(1300),
    fallback_reason: 'priority_declined',
    ...patch,
  });
}

/** The events a correct run publishes for `r`, one per change (a sequence: one per offered tier). */
function eventsOf(r: Row): StoredEvent[] {
  const e = (kind: StoredEvent['kind'], tier: number | null = null) => ({
    id: `${r.id}-${kind}${tier ?? ''}`,
    kind,
    requestId: r.id,
    actor: null,
    tier,
  });
  const offered = r.routing_type === 'priority_sequence' ? r.tiers.filter((t) => t.offered_at !== null) : [];
  return [
    e('created'),
    ...(r.routing_type === 'priority_sequence'
      ? offered.map((t) => e('priority_notified', t.tier))
      : r.priority_notified_at
        ? [e('priority_notified', 1)]
        : []),
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
  const mechanics: MechanicLog = {
    repeatedFrames: [],
    sharedIds: [],
    repeatedTiers: [],
    wins: new Map(),
    results: new Map(),
    connects: 0,
    offers: 0,
    tierOffers: new Map(),
    histories: new Map(),
    expired: 0,
    dropped: 0,
    availabilityChanges: 0,
    unexpected: [],
    retries: 0,
  };
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
    twice.events.push({ id: 'other-id', kind: 'broadcast', requestId: 'r1', actor: null, tier: null });
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

describe('chaos checks on sequences of ranked favorites', () => {
  const MECH_D = 'aaaaaaaa-0000-4000-8000-000000000004';
  /** Every way a sequence may end well. */
  const wellEnded = () => [
    // tier 1 timed out, tier 2 declined, tier 3 away: broadcast for the decline
    sequence('s1'),
    // accepted inside tier 2 by its mechanic
    sequence('s2', {
      status: 'accepted',
      mechanic_id: MECH_B,
      accepted_at: at(1500),
      broadcast_at: null,
      fallback_reason: null,
      tiers: [tier(1, MECH_A, 0, 1000, 'timeout', 1005), tier(2, MECH_B, 1005, 600, 'accepted', 1500)],
    }),
    // cancelled inside tier 1
    sequence('s3', {
      status: 'cancelled',
      cancelled_at: at(400),
      broadcast_at: null,
      fallback_reason: null,
      tiers: [tier(1, MECH_A, 0, 1000, 'withdrawn', 400)],
    }),
    // every favorite away: broadcast at once
    sequence('s4', {
      priority_notified_at: null,
      broadcast_at: at(5),
      fallback_reason: 'priority_unavailable',
      tiers: [
        tier(1, MECH_A, null, 1000, 'skipped_unavailable', 5),
        tier(2, MECH_B, null, 600, 'skipped_unavailable', 5),
        tier(3, MECH_C, null, 400, 'skipped_unavailable', 5),
      ],
    }),
    // every tier timed out
    sequence('s5', {
      broadcast_at: at(2020),
      fallback_reason: 'priority_timeout',
      tiers: [
        tier(1, MECH_A, 0, 1000, 'timeout', 1000),
        tier(2, MECH_B, 1000, 600, 'timeout', 1610),
        tier(3, MECH_C, 1610, 400, 'timeout', 2020),
      ],
    }),
    // accepted by anyone after the broadcast
    sequence('s6', { status: 'accepted', mechanic_id: MECH_D, accepted_at: at(1400) }),
  ];

  it('find nothing in sequences that went right, and count their tiers', () => {
    const i = input(wellEnded());
    i.mechanics.wins.set('s2', new Set([MECH_B]));
    const { violations, figures } = checkRun(i);
    expect(violations).toEqual([]);
    expect(figures.sequences).toMatchObject({
      requests: 6,
      tiersOffered: 10,
      laterTiersOffered: 5,
      acceptedInTier: 1,
      fallbacks: { priority_declined: 2, priority_unavailable: 1, priority_timeout: 1 },
      lateness: { count: 6, max: 10 },
      lateWhileRoutingDown: 0,
    });
    // The single windows' figures leave sequences out.
    expect(figures.priority).toBe(0);
  });

  it('name tiers that skip one, or that offer the request to a mechanic not of its plan', () => {
    const check = "sequence tiers not 1, 2, … of its plan's mechanics";
    const gap = sequence('s1', {
      tiers: [tier(1, MECH_A, 0, 1000, 'timeout', 1000), tier(3, MECH_C, 1000, 400, 'timeout', 1400)],
      broadcast_at: at(1400),
      fallback_reason: 'priority_timeout',
    });
    expect(checks(input([gap]))).toContain(check);
    const stranger = sequence('s1');
    (stranger.tiers[1] as Tier).mechanic_id = MECH_D;
    expect(checks(input([stranger]))).toContain(check);
  });

  it('name two tiers open at once, and a tier offered before the one before it ended', () => {
    const check = 'sequence with two tiers open at once';
    const both = sequence('s1', {
      broadcast_at: null,
      fallback_reason: null,
      tiers: [tier(1, MECH_A, 0, 1000, null, null), tier(2, MECH_B, 10, 600, null, null)],
    });
    expect(checks(input([both]))).toContain(check);
    const overlap = sequence('s1');
    (overlap.tiers[0] as Tier).ended_at = at(1200);
    expect(checks(input([overlap]))).toContain(check);
  });

  it('name a tier left open after the request was accepted or broadcast', () => {
    const check = 'sequence tier open after the request was accepted, cancelled or broadcast';
    const accepted = sequence('s1', {
      status: 'accepted',
      mechanic_id: MECH_B,
      accepted_at: at(1500),
      broadcast_at: null,
      fallback_reason: null,
      tiers: [tier(1, MECH_A, 0, 1000, 'timeout', 1000), tier(2, MECH_B, 1000, 600, 'accepted', 1500)],
    });
    accepted.tiers.push(tier(3, MECH_C, 1500, 400, null, null));
    expect(checks(input([accepted]))).toContain(check);
    const broadcast = sequence('s1');
    (broadcast.tiers[1] as Tier).ended_at = at(1400);
    expect(checks(input([broadcast]))).toContain(check);
  });

  it('name a timed-out tier that moved on before its deadline', () => {
    const early = sequence('s1');
    (early.tiers[0] as Tier).ended_at = at(900);
    (early.tiers[1] as Tier).offered_at = at(900);
    expect(checks(input([early]))).toContain('sequence tier moved on before its deadline');
  });

  it('name a timed-out tier that moved on late while routing ran, or never, but not one late while it was down', () => {
    const check = 'sequence tier moved on more than 1000 ms late while routing was up, or never';
    const late = sequence('s1', {
      broadcast_at: at(3000),
      tiers: [tier(1, MECH_A, 0, 1000, 'timeout', 2500), tier(2, MECH_B, 2500, 600, 'declined', 3000)],
    });
    expect(checks(input([late]))).toContain(check);
    const down = checkRun(input([late], { routingUpThrough: () => false }));
    expect(down.violations).toEqual([]);
    expect(down.figures.sequences.lateWhileRoutingDown).toBe(1);
    const never = sequence('s1', {
      broadcast_at: null,
      fallback_reason: null,
      tiers: [tier(1, MECH_A, 0, 1000, 'timeout', 1000)],
    });
    expect(checks(input([never]))).toContain(check);
  });

  it('name a tier told twice, a tier never told and a tier told that was never offered', () => {
    const check = 'sequence tier told other than once (priority_notified events per offered tier)';
    const twice = input([sequence('s1')]);
    twice.events.push({ id: 'again', kind: 'priority_notified', requestId: 's1', actor: null, tier: 2 });
    expect(checks(twice)).toContain(check);
    const untold = input([sequence('s1')]);
    untold.events = untold.events.filter((e) => !(e.kind === 'priority_notified' && e.tier === 2));
    expect(checks(untold)).toContain(check);
    const skipped = input([sequence('s1')]);
    skipped.events.push({ id: 'skipped', kind: 'priority_notified', requestId: 's1', actor: null, tier: 3 });
    expect(checks(skipped)).toContain(check);
  });

  it("name a sequence accepted inside a tier by someone but that tier's mechanic, and an accepted tier of a broadcast one", () => {
    const check = "sequence accepted before its broadcast by someone other than the accepted tier's mechanic";
    const inTier = (mechanic: string, outcome: Tier['outcome']) =>
      sequence('s1', {
        status: 'accepted',
        mechanic_id: mechanic,
        accepted_at: at(500),
        broadcast_at: null,
        fallback_reason: null,
        tiers: [tier(1, MECH_A, 0, 1000, outcome, 500)],
      });
    expect(checks(input([inTier(MECH_B, 'accepted')]))).toContain(check);
    expect(checks(input([inTier(MECH_A, 'withdrawn')]))).toContain(check);
    const afterBroadcast = sequence('s1', { status: 'accepted', mechanic_id: MECH_A, accepted_at: at(1400) });
    (afterBroadcast.tiers[1] as Tier).outcome = 'accepted';
    expect(checks(input([afterBroadcast]))).toContain(check);
  });

  it('name a fallback_reason that is not how the last offered tier ended', () => {
    const check = 'sequence fallback_reason not how its last offered tier ended';
    expect(checks(input([sequence('s1', { fallback_reason: 'priority_timeout' })]))).toContain(check);
    const away = sequence('s1', {
      priority_notified_at: null,
      broadcast_at: at(5),
      fallback_reason: 'priority_failed',
      tiers: [tier(1, MECH_A, null, 1000, 'skipped_unavailable', 5)],
    });
    expect(checks(input([away]))).toContain(check);
  });

  it("name a tier's offer twice on one connection, and a mechanic's unexpected HTTP answer", () => {
    const i = input([sequence('s1')]);
    i.mechanics.repeatedTiers.push({ mechanic: MECH_B, requestId: 's1', tier: 2 });
    i.mechanics.unexpected.push({ status: 500, body: '{}' });
    expect(checks(i)).toEqual(
      expect.arrayContaining([
        'priority offer of one tier twice on one connection',
        'unexpected HTTP answers to mechanics',
      ]),
    );
  });

  it('name two different frames of one id on one connection, apart from a frame repeated', () => {
    // The last tier timed out: its mechanic told offer_expired and then new_request, with one id.
    const i = input([sequence('s5')]);
    i.mechanics.sharedIds.push({ mechanic: MECH_C, id: 'e1', type: 'new_request', first: 'offer_expired' });
    const found = checks(i);
    expect(found).toContain(
      'two different frames with one id on one connection (a client dropping repeats by id loses the second)',
    );
    expect(found).not.toContain('the same frame twice on one connection');
  });
});

describe('chaos evidence', () => {
  it('lists the row and the events of each request a violation names', () => {
    const i = input([row('r1'), row('r2')]);
    i.mechanics.sharedIds.push({
      mechanic: MECH_A,
      id: 'e1',
      type: 'new_request',
      first: 'offer_expired',
      requestId: 'r2',
    });
    const lines = evidence(checkRun(i).violations, i.rows, i.events);
    expect(lines[0]).toMatch(/^request r2: \{"id":"r2"/);
    expect(lines.slice(1).every((l) => l.startsWith('  event ') && l.includes('r2-'))).toBe(true);
    expect(lines).toHaveLength(1 + eventsOf(row('r2')).length);
  });
});
