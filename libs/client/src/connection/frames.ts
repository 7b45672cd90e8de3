import type { CommandErrorCode, ServerFrame, SessionRequest } from '@dibs/contracts';
import type { OfferBook, OfferChange } from './offers.js';

/** What an offer frame changes in `book` (CONTRACT §4, §6); undefined for any other frame. */
export function applyOfferFrame(book: OfferBook, frame: ServerFrame): OfferChange[] | undefined {
  switch (frame.type) {
    case 'priority_session_request':
      return book.offer({
        request_id: frame.request.id,
        kind: 'priority',
        request: frame.request,
        expires_at: frame.expires_at,
        tier: frame.tier,
        priority_window_minutes: frame.priority_window_minutes,
        fallback_reason: null,
        message: frame.message,
        at: frame.at,
      });
    case 'new_request':
      return book.offer({
        request_id: frame.request.id,
        kind: 'broadcast',
        request: frame.request,
        expires_at: null,
        tier: null,
        priority_window_minutes: null,
        fallback_reason: frame.fallback_reason,
        message: null,
        at: frame.at,
      });
    case 'request_taken':
      return book.remove(frame.request_id, 'taken');
    case 'request_cancelled':
      return book.remove(frame.request_id, 'cancelled');
    case 'offer_expired':
      return book.remove(frame.request_id, 'expired');
    default:
      return undefined;
  }
}

/** Refusals of an accept or decline that mean the request is gone for this mechanic (a lost race). */
export const GONE_CODES: ReadonlySet<CommandErrorCode> = new Set([
  'already_taken',
  'already_accepted',
  'not_pending',
  'not_found',
]);

/** A customer's requests as their `request_update` frames show them. */
export class CustomerRequests {
  private readonly shown = new Map<string, { request: SessionRequest; at: number }>();

  /** Keeps the update; false when it is older than the one shown (updates of a request come in order on one socket). */
  apply(request: SessionRequest, at: string): boolean {
    const time = Date.parse(at);
    const known = this.shown.get(request.id);
    if (known && known.at > time) return false;
    this.shown.set(request.id, { request, at: time });
    return true;
  }

  list(): SessionRequest[] {
    return [...this.shown.values()].map((r) => r.request);
  }
}
