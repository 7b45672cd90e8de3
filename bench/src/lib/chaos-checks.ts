import type { EventKind, OfferOutcome, RoutingType } from '@dibs/contracts';
import type { MechanicLog } from './chaos-actors.js';
import type { CustomerLog } from './chaos-http.js';

// The invariants of ARCHITECTURE.md and CONTRACT §6, as pure functions of what a chaos run left
// behind (read by chaos-store.ts): each names what broke and a few examples.

/** One tier of a sequence as `session_request_offers` holds it: offered (or skipped), and how it ended. */
export interface Tier {
  tier: number;
  mechanic_id: string;
  offered_at: Date | null;
  expires_at: Date | null;
  outcome: OfferOutcome | null;
  ended_at: Date | null;
}

/** A session request as the database holds it at the end of the run. */
export interface Row {
  id: string;
  status: 'pending' | 'accepted' | 'cancelled';
  routing_type: RoutingType;
  preferred_mechanic_id: string | null;
  priority_notified_at: Date | null;
  priority_expires_at: Date | null;
  broadcast_at: Date | null;
  fallback_reason: string | null;
  mechanic_id: string | null;
  accepted_at: Date | null;
  cancelled_at: Date | null;
  /** A sequence's plan: its ranked favorites in tier order, fixed at booking (null otherwise). */
  plan: string[] | null;
  /** A sequence's tiers reached so far, in tier order (empty for any other request). */
  tiers: Tier[];
}

/** One lifecycle event as the EVENTS stream holds it. */
export interface StoredEvent {
  id: string;
  kind: EventKind;
  requestId: string;
  actor: string | null;
  /** The tier a `priority_notified` event opened (its priority offer's), else null. */
  tier: number | null;
  /** When it happened, and whom it told what (`type` or `type→mechanic`), for a report. */
  at?: string;
  notify?: string[];
}

/** A broken invariant: what, how many times, and a few examples. */
export interface Violation {
  check: string;
  count: number;
  examples: unknown[];
}

export class Findings {
  readonly violations: Violation[] = [];
  add(check: string, examples: unknown[]): void {
    if (examples.length > 0) this.violations.push({ check, count: examples.length, examples: examples.slice(0, 5) });
  }
}

export interface CheckInput {
  rows: Row[];
  events: StoredEvent[];
  customers: CustomerLog;
  mechanics: MechanicLog;
  /** Whether a routing replica was ready through the whole of [from, to] (epoch ms). */
  routingUpThrough(from: number, to: number): boolean;
  /** How late after its deadline a window (or a sequence's tier) may end while routing is up. */
  lateToleranceMs: number;
}

/** How late after their deadlines timed-out windows ended, ms, of those whose deadline fell while routing ran. */
export interface Lateness {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface SequenceFigures {
  requests: number;
  /** Tiers offered (not skipped), and each tier's outcome (open tiers as `open`). */
  tiersOffered: number;
  /** Offered tiers beyond the first: the sequence moved on at least once. */
  laterTiersOffered: number;
  outcomes: Record<string, number>;
  /** Accepted inside a tier, by that tier's mechanic. */
  acceptedInTier: number;
  /** Broadcast, by fallback reason. */
  fallbacks: Record<string, number>;
  /** Timed-out tiers: from their deadline to the next tier (or the broadcast). */
  lateness: Lateness;
  /** Timed-out tiers whose deadline fell while no routing replica was up. */
  lateWhileRoutingDown: number;
}

export interface Figures {
  requests: number;
  /** Requests with one preferred mechanic whose window opened; the next five count those too. */
  priority: number;
  acceptedByPreferred: number;
  timedOut: number;
  declined: number;
  failed: number;
  /** Broadcast at once: the preferred mechanic was unavailable. */
  unavailable: number;
  broadcastPending: number;
  cancelled: number;
  /** Broadcast after the deadline, ms: the windows that ended by timing out. */
  lateness: Lateness;
  /** Timed-out windows whose deadline fell while no routing replica was up. */
  lateWhileRoutingDown: number;
  sequences: SequenceFigures;
}

const isSequence = (r: Row) => r.routing_type === 'priority_sequence';
const isOpen = (t: Tier) => t.offered_at !== null && t.outcome === null;

/**
 * The invariants of ARCHITECTURE.md, checked on what the run left behind: the database rows, the
 * EVENTS stream and what the customers and mechanics were told.
 */
export function checkRun(input: CheckInput): { violations: Violation[]; figures: Figures } {
  const f = new Findings();
  const byId = new Map(input.rows.map((r) => [r.id, r]));
  const acknowledged = new Set(input.customers.acknowledged.map((b) => b.requestId));
  const now = Date.now();

  // No request lost: every booking the API acknowledged exists and was routed.
  f.add(
    'acknowledged booking missing from the database',
    [...acknowledged].filter((id) => !byId.has(id)),
  );
  // No booking doubled: a retried booking (same Idempotency-Key) is one row.
  const extra = input.rows.length - acknowledged.size - input.customers.abandoned;
  f.add('bookings doubled by retries', extra > 0 ? [{ rows: input.rows.length, acknowledged: acknowledged.size }] : []);
  const windowOpen = (r: Row) =>
    (r.priority_expires_at !== null && r.priority_expires_at.getTime() >= now) ||
    r.tiers.some((t) => isOpen(t) && (t.expires_at as Date).getTime() >= now);
  f.add(
    'request stuck: pending, never broadcast, no window open',
    input.rows.filter((r) => r.status === 'pending' && r.broadcast_at === null && !windowOpen(r)).map((r) => r.id),
  );
  f.add('unexpected HTTP answers to customers', input.customers.unexpected);
  f.add('unexpected HTTP answers to mechanics', input.mechanics.unexpected);

  // Windows: never broadcast before the deadline unless declined; never taken by another
  // mechanic inside the window; on time while routing runs.
  const single = input.rows.filter((r) => !isSequence(r));
  const timedOut = single.filter((r) => r.fallback_reason === 'priority_timeout');
  f.add(
    'window broadcast before its deadline',
    timedOut
      .filter((r) => r.broadcast_at && r.priority_expires_at && r.broadcast_at < r.priority_expires_at)
      .map((r) => r.id),
  );
  f.add(
    'another mechanic took the request inside the window',
    single
      .filter(
        (r) =>
          r.status === 'accepted' &&
          r.priority_expires_at !== null &&
          r.mechanic_id !== r.preferred_mechanic_id &&
          r.accepted_at !== null &&
          (r.broadcast_at === null || r.accepted_at < r.broadcast_at),
      )
      .map((r) => r.id),
  );
  const windows = lateness(
    input,
    timedOut.flatMap((r) =>
      r.broadcast_at && r.priority_expires_at
        ? [{ example: { id: r.id }, deadline: r.priority_expires_at.getTime(), ended: r.broadcast_at.getTime() }]
        : [],
    ),
  );
  f.add(`window broadcast more than ${input.lateToleranceMs} ms late while routing was up`, windows.late);

  // Exactly one winner: one accepted event, one mechanic told it won, and it is the row's.
  const kinds = new Map<string, Map<EventKind, Set<string>>>();
  for (const e of input.events) {
    const perKind = kinds.get(e.requestId) ?? new Map<EventKind, Set<string>>();
    const ids = perKind.get(e.kind) ?? new Set<string>();
    ids.add(e.id);
    perKind.set(e.kind, ids);
    kinds.set(e.requestId, perKind);
  }
  const count = (id: string, kind: EventKind) => kinds.get(id)?.get(kind)?.size ?? 0;
  for (const kind of ['created', 'priority_notified', 'broadcast', 'accepted', 'cancelled'] as const)
    f.add(
      `${kind} event told twice (two event ids for one change)`,
      // A sequence tells one `priority_notified` per tier (checked per tier below).
      input.rows
        .filter((r) => count(r.id, kind) > 1 && !(kind === 'priority_notified' && isSequence(r)))
        .map((r) => r.id),
    );
  f.add(
    'change never told (row changed, no event)',
    input.rows.flatMap((r) => {
      const missing = [
        count(r.id, 'created') === 0 && 'created',
        r.priority_notified_at && count(r.id, 'priority_notified') === 0 && 'priority_notified',
        r.broadcast_at && count(r.id, 'broadcast') === 0 && 'broadcast',
        r.status === 'accepted' && count(r.id, 'accepted') === 0 && 'accepted',
        r.status === 'cancelled' && count(r.id, 'cancelled') === 0 && 'cancelled',
      ].filter(Boolean);
      return missing.length ? [{ id: r.id, missing }] : [];
    }),
  );
  const winners: unknown[] = [];
  for (const [requestId, mechanics] of input.mechanics.wins) {
    const row = byId.get(requestId);
    if (mechanics.size > 1 || row?.status !== 'accepted' || !mechanics.has(row.mechanic_id as string))
      winners.push({
        requestId,
        toldWon: [...mechanics],
        row: row && { status: row.status, mechanic_id: row.mechanic_id },
      });
  }
  f.add('mechanic told it won but the request is not theirs', winners);
  f.add('the same frame twice on one connection', input.mechanics.repeatedFrames);
  f.add(
    'two different frames with one id on one connection (a client dropping repeats by id loses the second)',
    input.mechanics.sharedIds,
  );
  f.add('priority offer of one tier twice on one connection', input.mechanics.repeatedTiers);
  f.add(
    'cancel answer contradicted by the request',
    input.customers.cancels
      .filter((c) => byId.get(c.requestId)?.status !== (c.status === 200 ? 'cancelled' : 'accepted'))
      .map((c) => ({ ...c, status_now: byId.get(c.requestId)?.status })),
  );

  const sequences = checkSequences(f, input);

  const priority = single.filter((r) => r.preferred_mechanic_id !== null && r.priority_notified_at !== null);
  return {
    violations: f.violations,
    figures: {
      requests: input.rows.length,
      priority: priority.length,
      acceptedByPreferred: priority.filter((r) => r.status === 'accepted' && r.mechanic_id === r.preferred_mechanic_id)
        .length,
      timedOut: timedOut.length,
      declined: single.filter((r) => r.fallback_reason === 'priority_declined').length,
      failed: single.filter((r) => r.fallback_reason === 'priority_failed').length,
      unavailable: single.filter((r) => r.fallback_reason === 'priority_unavailable').length,
      broadcastPending: input.rows.filter((r) => r.status === 'pending' && r.broadcast_at !== null).length,
      cancelled: input.rows.filter((r) => r.status === 'cancelled').length,
      lateness: windows.figures,
      lateWhileRoutingDown: windows.whileRoutingDown,
      sequences,
    },
  };
}

/**
 * Ranked favorites offered in sequence (CONTRACT §6): each tier a window of its own, opened once,
 * ended once, on time, and the request broadcast for the reason its last offered tier gives.
 */
function checkSequences(f: Findings, input: CheckInput): SequenceFigures {
  const sequences = input.rows.filter(isSequence);
  const offered = (r: Row) => r.tiers.filter((t) => t.offered_at !== null);

  f.add(
    "sequence tiers not 1, 2, … of its plan's mechanics",
    sequences
      .filter((r) => r.tiers.some((t, i) => t.tier !== i + 1 || t.mechanic_id !== r.plan?.[i]))
      .map((r) => ({ id: r.id, tiers: r.tiers.map((t) => [t.tier, t.mechanic_id]), plan: r.plan })),
  );
  // One at a time: never two open, and each offered tier ended before the next was offered.
  f.add(
    'sequence with two tiers open at once',
    sequences
      .filter((r) => {
        const o = offered(r);
        return (
          o.filter(isOpen).length > 1 ||
          o.some((t, i) => {
            const before = o[i - 1];
            return before !== undefined && (before.ended_at === null || before.ended_at > (t.offered_at as Date));
          })
        );
      })
      .map((r) => ({ id: r.id, tiers: r.tiers })),
  );
  // The request's end (accepted, cancelled or broadcast, whichever came first) ends every tier.
  f.add(
    'sequence tier open after the request was accepted, cancelled or broadcast',
    sequences.flatMap((r) => {
      const ends = [r.accepted_at, r.cancelled_at, r.broadcast_at].filter((d): d is Date => d !== null);
      if (ends.length === 0) return [];
      const end = Math.min(...ends.map((d) => d.getTime()));
      const after = r.tiers.filter(
        (t) =>
          t.ended_at === null || t.ended_at.getTime() > end || (t.offered_at !== null && t.offered_at.getTime() > end),
      );
      return after.length ? [{ id: r.id, status: r.status, end: new Date(end), tiers: after }] : [];
    }),
  );

  // A tier that timed out moves on (next tier offered or skipped, or the broadcast) no earlier
  // than its deadline and, while routing runs, within the tolerance after it.
  const early: unknown[] = [];
  const never: unknown[] = [];
  const ended: { example: unknown; deadline: number; ended: number }[] = [];
  for (const r of sequences) {
    for (const t of r.tiers) {
      if (t.outcome !== 'timeout' || t.expires_at === null) continue;
      const next = r.tiers.find((n) => n.tier === t.tier + 1);
      const successor = next ? (next.offered_at ?? next.ended_at) : r.broadcast_at;
      const example = { id: r.id, tier: t.tier, expires_at: t.expires_at, successor };
      if (successor === null) never.push(example);
      else if (successor < t.expires_at) early.push(example);
      else ended.push({ example, deadline: t.expires_at.getTime(), ended: successor.getTime() });
    }
  }
  f.add('sequence tier moved on before its deadline', early);
  const tiers = lateness(input, ended);
  f.add(`sequence tier moved on more than ${input.lateToleranceMs} ms late while routing was up, or never`, [
    ...never,
    ...tiers.late,
  ]);

  // Each tier offered is told once: one `priority_notified` event per offered tier, none for others.
  const told = new Map<string, Map<number, Set<string>>>();
  for (const e of input.events) {
    if (e.kind !== 'priority_notified') continue;
    const perTier = told.get(e.requestId) ?? new Map<number, Set<string>>();
    const ids = perTier.get(e.tier ?? 1) ?? new Set<string>();
    ids.add(e.id);
    perTier.set(e.tier ?? 1, ids);
    told.set(e.requestId, perTier);
  }
  f.add(
    'sequence tier told other than once (priority_notified events per offered tier)',
    sequences.flatMap((r) => {
      const perTier = told.get(r.id) ?? new Map<number, Set<string>>();
      const tiersOf = new Set([...offered(r).map((t) => t.tier), ...perTier.keys()]);
      return [...tiersOf]
        .map((tier) => ({
          id: r.id,
          tier,
          offered: offered(r).some((t) => t.tier === tier),
          events: perTier.get(tier)?.size ?? 0,
        }))
        .filter((x) => x.events !== (x.offered ? 1 : 0));
    }),
  );

  // Before the broadcast only the open tier's mechanic may accept, and that tier ends accepted.
  f.add(
    "sequence accepted before its broadcast by someone other than the accepted tier's mechanic",
    sequences.flatMap((r) => {
      const accepted = r.tiers.filter((t) => t.outcome === 'accepted');
      const inTier = r.status === 'accepted' && (r.broadcast_at === null || (r.accepted_at as Date) < r.broadcast_at);
      const fine = inTier ? accepted.length === 1 && accepted[0]?.mechanic_id === r.mechanic_id : accepted.length === 0;
      return fine ? [] : [{ id: r.id, status: r.status, mechanic_id: r.mechanic_id, accepted_tiers: accepted }];
    }),
  );

  f.add(
    'sequence fallback_reason not how its last offered tier ended',
    sequences
      .map((r) => ({ id: r.id, fallback_reason: r.fallback_reason, expected: expectedFallback(r), tiers: r.tiers }))
      .filter((x) => x.fallback_reason !== x.expected),
  );

  const outcomes: Record<string, number> = {};
  for (const t of sequences.flatMap((r) => r.tiers)) {
    const key = t.outcome ?? 'open';
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const fallbacks: Record<string, number> = {};
  for (const r of sequences)
    if (r.fallback_reason) fallbacks[r.fallback_reason] = (fallbacks[r.fallback_reason] ?? 0) + 1;
  return {
    requests: sequences.length,
    tiersOffered: sequences.reduce((n, r) => n + offered(r).length, 0),
    laterTiersOffered: sequences.reduce((n, r) => n + offered(r).filter((t) => t.tier > 1).length, 0),
    outcomes,
    acceptedInTier: outcomes.accepted ?? 0,
    fallbacks,
    lateness: tiers.figures,
    lateWhileRoutingDown: tiers.whileRoutingDown,
  };
}

/**
 * Why a sequence went to everyone, from its tiers alone (null while it has not): as its last
 * offered tier ended; with no tier offered, `priority_unavailable` if a favorite was skipped as
 * unavailable, `priority_declined` if one had declined before its tier, else `priority_failed`;
 * no tier reached at all: the flag was off.
 */
export function expectedFallback(r: Row): string | null {
  if (r.broadcast_at === null) return null;
  const last = r.tiers.filter((t) => t.offered_at !== null).at(-1);
  if (last) {
    if (last.outcome === 'timeout') return 'priority_timeout';
    if (last.outcome === 'declined') return 'priority_declined';
    return `none: the last offered tier ended ${last.outcome ?? 'never'}`;
  }
  if (r.tiers.length === 0) return 'flag_disabled';
  const outcomes = new Set(r.tiers.map((t) => t.outcome));
  if (outcomes.has('skipped_unavailable')) return 'priority_unavailable';
  if (outcomes.has('declined')) return 'priority_declined';
  return 'priority_failed';
}

/**
 * How late after their deadlines windows ended, counted only when a routing replica was up from
 * the deadline through the tolerance after it (the same rule for windows and tiers); the ones
 * later than the tolerance are returned as `late`.
 */
function lateness(
  input: CheckInput,
  windows: { example: unknown; deadline: number; ended: number }[],
): { late: unknown[]; figures: Lateness; whileRoutingDown: number } {
  const lateMs: number[] = [];
  const late: unknown[] = [];
  let whileRoutingDown = 0;
  for (const w of windows) {
    if (!input.routingUpThrough(w.deadline, w.deadline + input.lateToleranceMs)) {
      whileRoutingDown++;
      continue;
    }
    const ms = w.ended - w.deadline;
    lateMs.push(ms);
    if (ms > input.lateToleranceMs) late.push({ ...(w.example as object), lateMs: ms });
  }
  lateMs.sort((a, b) => a - b);
  const q = (p: number) => lateMs[Math.min(lateMs.length - 1, Math.floor(p * lateMs.length))] ?? 0;
  return {
    late,
    figures: { p50: q(0.5), p99: q(0.99), max: lateMs.at(-1) ?? 0, count: lateMs.length },
    whileRoutingDown,
  };
}

/**
 * What the run left of the requests the violations' examples name (the first `perCheck` of each
 * check's): each one's row with its tiers, its events in stream order and what the mechanics'
 * apps were told of it and sent about it (`histories`), one line each, to report with.
 */
export function evidence(
  violations: Violation[],
  rows: Row[],
  events: StoredEvent[],
  histories: ReadonlyMap<string, string[]> = new Map(),
  perCheck = 2,
): string[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const named = new Set<string>();
  for (const v of violations) {
    const ids = v.examples
      .map((e) => {
        const x = e as { id?: unknown; requestId?: unknown } | string;
        return typeof x === 'string' ? x : typeof x?.requestId === 'string' ? x.requestId : x?.id;
      })
      .filter((id): id is string => typeof id === 'string' && byId.has(id));
    for (const id of ids.slice(0, perCheck)) named.add(id);
  }
  return [...named].flatMap((id) => [
    `request ${id}: ${JSON.stringify(byId.get(id))}`,
    ...events
      .filter((e) => e.requestId === id)
      .map(
        (e) =>
          `  event ${e.kind} ${e.id} at ${e.at}${e.tier ? ` tier ${e.tier}` : ''}${e.actor ? ` by ${e.actor}` : ''} → ${(e.notify ?? []).join(', ')}`,
      ),
    // A broadcast is told to every app: the first lines are the ones that tell the story.
    ...(histories.get(id) ?? []).slice(0, 40).map((h) => `  app ${h}`),
  ]);
}
