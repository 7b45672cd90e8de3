import { BoundedSet, type LiveOffer } from './offers.js';

/**
 * Seen acks (CONTRACT §7): one per offer (a request's priority offer, each tier, and its
 * broadcast are different offers), held while the socket is away and sent once it is back.
 */
export class SeenAcks {
  private readonly marked = new BoundedSet(4096);
  private readonly waiting = new Set<string>();

  /** Marks `offer` seen: true the first time (send it now, or `hold` it until connected), false after. */
  mark(offer: LiveOffer, hold: boolean): boolean {
    if (!this.marked.add(`${offer.request_id}:${offer.kind}:${offer.tier ?? ''}`)) return false;
    if (hold) this.waiting.add(offer.request_id);
    return true;
  }

  /** The offer ended: an ack still held for it is not sent. */
  forget(requestId: string): void {
    this.waiting.delete(requestId);
  }

  /** The acks held, to send now that the socket is back. */
  takeHeld(): string[] {
    const held = [...this.waiting];
    this.waiting.clear();
    return held;
  }
}
