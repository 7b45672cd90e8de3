import { type FallbackReason, mechanicView, type SessionRequest, type SnapshotItem } from '@dibs/contracts';
import type { OfferKind } from './delivery.js';

/** A request still open for one mechanic, as the snapshot query finds it. */
export interface OpenRequest {
  kind: OfferKind;
  request: SessionRequest;
}

/**
 * The snapshot items of a mechanic (CONTRACT §4), in the mechanic's view of a request (no customer
 * email): its own priority offers first (with the end of the window as `expires_at`), then
 * broadcast ones. A priority offer whose window has already
 * ended at `now` is left out: routing is about to broadcast it, and the broadcast will follow.
 */
export function snapshotItems(open: OpenRequest[], now: number): SnapshotItem[] {
  const items: SnapshotItem[] = [];
  for (const { kind, request } of open) {
    if (kind === 'priority') {
      const expires = request.priority_expires_at;
      if (expires === null || Date.parse(expires) <= now) continue;
      items.push({ kind, request: mechanicView(request), expires_at: expires, fallback_reason: null });
    } else {
      items.push({
        kind,
        request: mechanicView(request),
        expires_at: null,
        fallback_reason: request.fallback_reason as FallbackReason | null,
      });
    }
  }
  return items.sort((a, b) => rank(a) - rank(b));
}

function rank(item: SnapshotItem): number {
  return item.kind === 'priority' ? 0 : 1;
}
