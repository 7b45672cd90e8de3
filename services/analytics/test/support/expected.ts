import type { FallbackEffectiveness, MechanicStats, TimeoutRate } from '@dibs/contracts';
import { type GeneratedRequest, type History, PRIORITY_OUTCOMES } from './history.js';

// Answers counted by hand from how each generated request's life went, never from SQL.

/** `ROUND(100.0 * part / total, 2)`, and 0 when there is nothing to divide. */
export const pct = (part: number, total: number) => (total === 0 ? 0 : Math.round((10_000 * part) / total) / 100);

const isPriority = (r: GeneratedRequest) => PRIORITY_OUTCOMES.has(r.outcome);
const acceptedByPreferred = (r: GeneratedRequest) =>
  r.outcome === 'accepted_by_preferred' || r.outcome === 'timeout_accepted_by_preferred';

export function inRange(requests: GeneratedRequest[], from?: string, to?: string): GeneratedRequest[] {
  return requests.filter((r) => (!from || r.final.created_at >= from) && (!to || r.final.created_at < to));
}

export function expectedTimeoutRate(requests: GeneratedRequest[]): TimeoutRate {
  const priority = requests.filter(isPriority);
  const timedOut = priority.filter((r) => r.outcome.startsWith('timeout_')).length;
  return {
    total_priority_requests: priority.length,
    timed_out: timedOut,
    timeout_rate: pct(timedOut, priority.length),
  };
}

export function expectedFallback(requests: GeneratedRequest[]): FallbackEffectiveness {
  const fallbacks = requests.filter((r) => r.outcome.startsWith('timeout_') || r.outcome.startsWith('declined_'));
  const accepted = fallbacks.filter((r) => r.final.status === 'accepted').length;
  return {
    total_fallbacks: fallbacks.length,
    accepted_after_fallback: accepted,
    fallback_success_rate: pct(accepted, fallbacks.length),
  };
}

/** Success-rate rows by mechanic id (any volume). */
export function expectedSuccess(history: History, requests: GeneratedRequest[]) {
  const rows = new Map<string, { total: number; accepted: number }>();
  for (const r of requests.filter(isPriority)) {
    const id = r.final.preferred_mechanic_id!;
    const row = rows.get(id) ?? { total: 0, accepted: 0 };
    row.total++;
    if (acceptedByPreferred(r)) row.accepted++;
    rows.set(id, row);
  }
  return [...rows].map(([id, { total, accepted }]) => ({
    mechanic_id: id,
    mechanic_name: history.mechanics.find((m) => m.id === id)!.name,
    total_priority_requests: total,
    accepted_by_preferred: accepted,
    priority_success_rate: pct(accepted, total),
  }));
}

export function expectedStats(history: History, mechanicId: string): MechanicStats {
  const mine = history.requests.filter((r) => isPriority(r) && r.final.preferred_mechanic_id === mechanicId);
  const accepted = mine.filter(acceptedByPreferred);
  const seconds = accepted.map(
    (r) => (Date.parse(r.final.accepted_at!) - Date.parse(r.final.priority_notified_at!)) / 1000,
  );
  return {
    favorited_by: history.favoritedBy.get(mechanicId) ?? 0,
    priority_requests: mine.length,
    priority_accepted: accepted.length,
    priority_acceptance_rate: pct(accepted.length, mine.length),
    avg_priority_response_seconds: seconds.length ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null,
  };
}
