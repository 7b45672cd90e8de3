import { type FallbackReason, mechanicView, type SessionRequest, type SnapshotItem } from '@dibs/contracts';

/**
 * A request still open for one mechanic, as the snapshot query finds it. A priority offer comes
 * with its window: the request's own (tier 1), or the sequence's tier offered to this mechanic,
 * whose deadline and length are the tier's, not the request's columns (null while tiers run).
 */
export type OpenRequest =
  | { kind: 'broadcast'; request: SessionRequest }
  | { kind: 'priority'; request: SessionRequest; tier: number; windowMinutes: number; expiresAt: string };

/**
 * The snapshot items of a mechanic (CONTRACT §4), in the mechanic's view of a request (no customer
 * email): its own priority offers first (with the end of its window as `expires_at`), then
 * broadcast ones. A priority offer whose window has already ended at `now` is left out: routing is
 * about to offer the next tier or broadcast it, and that frame will follow.
 */
export function snapshotItems(open: OpenRequest[], now: number): SnapshotItem[] {
  const items: SnapshotItem[] = [];
  for (const offer of open) {
    if (offer.kind === 'priority') {
      if (Date.parse(offer.expiresAt) <= now) continue;
      items.push({
        kind: 'priority',
        request: mechanicView(offer.request),
        expires_at: offer.expiresAt,
        fallback_reason: null,
        tier: offer.tier,
        priority_window_minutes: offer.windowMinutes,
      });
    } else {
      items.push({
        kind: 'broadcast',
        request: mechanicView(offer.request),
        expires_at: null,
        fallback_reason: offer.request.fallback_reason as FallbackReason | null,
        tier: null,
        priority_window_minutes: null,
      });
    }
  }
  return items.sort((a, b) => rank(a) - rank(b));
}

function rank(item: SnapshotItem): number {
  return item.kind === 'priority' ? 0 : 1;
}
