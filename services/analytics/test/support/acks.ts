import { EVENT_VERSION, type SeenEvent } from '@dibs/contracts';

/** An `accepted` event's price (CONTRACT §7). */
export interface Price {
  cents: number;
  currency: string;
}

/**
 * The plans the generated requests book, by `plan_code`: two in EUR, one in USD (booked by
 * issue-12 lives only, so the single requests' period is priced in one currency), and one that
 * is unknown when the request is accepted (price null, counted apart).
 */
export const PLANS: Readonly<Record<string, Price | null>> = {
  basic: { cents: 1500, currency: 'EUR' },
  plus: { cents: 2900, currency: 'EUR' },
  intl: { cents: 4200, currency: 'USD' },
  legacy: null,
};

/**
 * The seen acks of one request's life (CONTRACT §7): the first per mechanic, as the gateway
 * publishes it (once per request and mechanic), and now and then a repeat with a later `seen_at`,
 * as another gateway would send after the stream's duplicate window; analytics keeps the first.
 */
export function ackLog(requestId: string, rnd: () => number) {
  const first = new Map<string, SeenEvent>();
  const repeats: SeenEvent[] = [];
  return {
    ack(mechanicId: string, offer: SeenEvent['offer'], tier: number | null, at: number): void {
      if (first.has(mechanicId)) return;
      const seen: SeenEvent = {
        v: EVENT_VERSION,
        request_id: requestId,
        mechanic_id: mechanicId,
        offer,
        tier,
        seen_at: new Date(at).toISOString(),
      };
      first.set(mechanicId, seen);
      if (rnd() < 0.2) repeats.push({ ...seen, seen_at: new Date(at + 500 + Math.floor(rnd() * 5_000)).toISOString() });
    },
    has: (mechanicId: string) => first.has(mechanicId),
    seen: () => [...first.values()],
    repeats: () => repeats,
  };
}
