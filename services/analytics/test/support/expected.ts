import type { FallbackEffectiveness, MechanicStats, PrioritySkips, ResponseTimes, TimeoutRate } from '@dibs/contracts';
import { expect } from 'vitest';
import { expectedEarnings } from './expected-insights.js';
import { type AnyOutcome, type GeneratedRequest, type History, PRIORITY_OUTCOMES } from './history.js';

// Answers counted by hand from how each generated request's life went (its outcome and the tiers
// the generator decided), never from SQL nor from the events analytics reads.

/** `ROUND(100.0 * part / total, 2)`, and 0 when there is nothing to divide. */
export const pct = (part: number, total: number) => (total === 0 ? 0 : Math.round((10_000 * part) / total) / 100);

const isSequence = (r: GeneratedRequest) => r.outcome.startsWith('seq_');
/** Issue-12 lives where routing neither offered nor skipped-as-unavailable anyone. */
const NEVER_PRIORITY: ReadonlySet<AnyOutcome> = new Set(['seq_flag_off', 'seq_all_not_approved']);
const isPriority = (r: GeneratedRequest) =>
  PRIORITY_OUTCOMES.has(r.outcome) ||
  ((isSequence(r) || r.outcome === 'single_unavailable') && !NEVER_PRIORITY.has(r.outcome));
export const acceptedByPreferred = (r: GeneratedRequest) =>
  r.outcome === 'accepted_by_preferred' || r.outcome === 'timeout_accepted_by_preferred';
export const TIMED_OUT: ReadonlySet<AnyOutcome> = new Set([
  'timeout_accepted_by_other',
  'timeout_accepted_by_preferred',
  'timeout_pending',
  'timeout_cancelled',
  'seq_all_timeout',
]);
export const FELL_BACK: ReadonlySet<AnyOutcome> = new Set([
  ...TIMED_OUT,
  'declined_accepted_by_other',
  'declined_pending',
  'seq_last_declined',
  'seq_all_skipped',
  'single_unavailable',
]);

interface PriorityOffer {
  mechanic_id: string;
  accepted: boolean;
  /** Offer → acceptance, when accepted. */
  seconds: number | null;
  /** The window is over (the request left it, or the tier has an outcome). */
  ended: boolean;
  /** Offer → the mechanic's ack of this priority offer, in ms, when it acked it. */
  seenMs: number | null;
}

/**
 * A request's priority offers: a single request's window for its preferred mechanic (accepted
 * when that mechanic took it, also after the fallback, as the seed counts), or each tier of a
 * sequence that was offered (accepted when it was accepted inside that tier).
 */
export function priorityOffers(r: GeneratedRequest): PriorityOffer[] {
  const acceptedAt = r.final.accepted_at ? Date.parse(r.final.accepted_at) : null;
  // The generator acks a priority offer before any other frame of that request's mechanic.
  const seenMs = (mechanicId: string, offeredAt: number) => {
    const ack = r.seen.find((s) => s.mechanic_id === mechanicId && s.offer === 'priority');
    return ack ? Math.max(0, Date.parse(ack.seen_at) - offeredAt) : null;
  };
  if (PRIORITY_OUTCOMES.has(r.outcome)) {
    const accepted = acceptedByPreferred(r);
    const notified = Date.parse(r.final.priority_notified_at!);
    return [
      {
        mechanic_id: r.final.preferred_mechanic_id!,
        accepted,
        seconds: accepted ? (acceptedAt! - notified) / 1000 : null,
        ended: r.outcome !== 'window_open',
        seenMs: seenMs(r.final.preferred_mechanic_id!, notified),
      },
    ];
  }
  if (!isSequence(r)) return [];
  return r.tiers.flatMap((t) =>
    t.offered_at === null
      ? []
      : [
          {
            mechanic_id: t.mechanic_id,
            accepted: t.fate === 'accepted',
            seconds: t.fate === 'accepted' ? (acceptedAt! - t.offered_at) / 1000 : null,
            ended: t.fate !== 'open',
            seenMs: seenMs(t.mechanic_id, t.offered_at),
          },
        ],
  );
}

export function inRange(requests: GeneratedRequest[], from?: string, to?: string): GeneratedRequest[] {
  return requests.filter((r) => (!from || r.final.created_at >= from) && (!to || r.final.created_at < to));
}

export function expectedTimeoutRate(requests: GeneratedRequest[]): TimeoutRate {
  const priority = requests.filter(isPriority);
  const timedOut = priority.filter((r) => TIMED_OUT.has(r.outcome)).length;
  return {
    total_priority_requests: priority.length,
    timed_out: timedOut,
    timeout_rate: pct(timedOut, priority.length),
  };
}

export function expectedFallback(requests: GeneratedRequest[]): FallbackEffectiveness {
  const fallbacks = requests.filter((r) => FELL_BACK.has(r.outcome));
  const accepted = fallbacks.filter((r) => r.final.status === 'accepted').length;
  return {
    total_fallbacks: fallbacks.length,
    accepted_after_fallback: accepted,
    fallback_success_rate: pct(accepted, fallbacks.length),
  };
}

/** `avg_seen_seconds` (mean of offer → ack over the acked offers) and `offers_never_seen` of some offers. */
export function seenStats(offers: readonly PriorityOffer[]) {
  const seen = offers.flatMap((o) => (o.seenMs === null ? [] : [o.seenMs]));
  return {
    avg_seen_seconds: seen.length ? seen.reduce((a, b) => a + b, 0) / (1000 * seen.length) : null,
    offers_never_seen: offers.filter((o) => o.ended && o.seenMs === null).length,
  };
}

/**
 * Expected rows whose `avg_seen_seconds` matches to 9 decimals: PostgreSQL's numeric mean and a
 * JavaScript division may differ in the last bit.
 */
export function seenClose<T extends { avg_seen_seconds: number | null }>(rows: T[]): T[] {
  return rows.map((r) => ({
    ...r,
    avg_seen_seconds: r.avg_seen_seconds === null ? null : expect.closeTo(r.avg_seen_seconds, 9),
  }));
}

/** Success-rate rows by mechanic id (any volume). */
export function expectedSuccess(history: History, requests: GeneratedRequest[]) {
  const rows = new Map<string, PriorityOffer[]>();
  for (const offer of requests.flatMap(priorityOffers)) {
    rows.set(offer.mechanic_id, [...(rows.get(offer.mechanic_id) ?? []), offer]);
  }
  return [...rows].map(([id, offers]) => {
    const accepted = offers.filter((o) => o.accepted).length;
    return {
      mechanic_id: id,
      mechanic_name: nameOf(history, id),
      total_priority_requests: offers.length,
      accepted_by_preferred: accepted,
      priority_success_rate: pct(accepted, offers.length),
      ...seenStats(offers),
    };
  });
}

export function expectedResponseTimes(requests: GeneratedRequest[]): ResponseTimes {
  const minutes = requests.flatMap(priorityOffers).flatMap((o) => (o.seconds === null ? [] : [o.seconds / 60]));
  if (minutes.length === 0)
    return { avg_response_minutes: null, min_response_minutes: null, max_response_minutes: null };
  return {
    avg_response_minutes: minutes.reduce((a, b) => a + b, 0) / minutes.length,
    min_response_minutes: Math.min(...minutes),
    max_response_minutes: Math.max(...minutes),
  };
}

export function expectedSkips(history: History, requests: GeneratedRequest[]): PrioritySkips {
  const priority = requests.filter(isPriority);
  const skippedTiers = priority.map((r) => r.tiers.filter((t) => t.fate.startsWith('skipped_')));
  const withSkips = skippedTiers.filter((tiers) => tiers.length > 0).length;
  const rows = new Map<string, PrioritySkips['by_mechanic'][number]>();
  for (const t of skippedTiers.flat()) {
    const row = rows.get(t.mechanic_id) ?? {
      mechanic_id: t.mechanic_id,
      mechanic_name: nameOf(history, t.mechanic_id),
      skipped: 0,
      skipped_unavailable: 0,
      skipped_not_approved: 0,
    };
    row.skipped++;
    if (t.fate === 'skipped_unavailable') row.skipped_unavailable++;
    else row.skipped_not_approved++;
    rows.set(t.mechanic_id, row);
  }
  return {
    priority_requests: priority.length,
    requests_with_skips: withSkips,
    skip_rate: pct(withSkips, priority.length),
    by_mechanic: [...rows.values()].sort((a, b) =>
      a.skipped !== b.skipped ? b.skipped - a.skipped : a.mechanic_id < b.mechanic_id ? -1 : 1,
    ),
  };
}

export function expectedStats(history: History, mechanicId: string): MechanicStats {
  const mine = history.requests.flatMap(priorityOffers).filter((o) => o.mechanic_id === mechanicId);
  const accepted = mine.filter((o) => o.accepted);
  const seconds = accepted.map((o) => o.seconds!);
  return {
    favorited_by: history.favoritedBy.get(mechanicId) ?? 0,
    priority_requests: mine.length,
    priority_accepted: accepted.length,
    priority_acceptance_rate: pct(accepted.length, mine.length),
    avg_priority_response_seconds: seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null,
    ...expectedEarnings(history, mechanicId),
    ...seenStats(mine),
  };
}

function nameOf(history: History, mechanicId: string): string {
  return history.mechanics.find((m) => m.id === mechanicId)!.name;
}
