import type { MechanicStats } from '@dibs/contracts';

/** What one mechanic earned in one currency (cents): in all, and from customers who favorite them. */
export interface CurrencyEarnings {
  currency: string;
  earnings_cents: number;
  earnings_from_favorites_cents: number;
}

type EarningsFields = Pick<
  MechanicStats,
  'earnings_cents' | 'earnings_from_favorites_cents' | 'earnings_currency' | 'earnings_by_currency'
>;

/**
 * A mechanic's earnings as the stats show them (CONTRACT §7): money is never summed across
 * currencies, so the totals are given only when every priced request was in one currency; with
 * several they are null and `earnings_by_currency` lists each; with none they are 0.
 */
export function earningsSummary(byCurrency: readonly CurrencyEarnings[]): EarningsFields {
  const list = [...byCurrency].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  const [only] = list;
  if (list.length === 0) {
    return { earnings_cents: 0, earnings_from_favorites_cents: 0, earnings_currency: null, earnings_by_currency: [] };
  }
  if (list.length === 1 && only) {
    return {
      earnings_cents: only.earnings_cents,
      earnings_from_favorites_cents: only.earnings_from_favorites_cents,
      earnings_currency: only.currency,
      earnings_by_currency: list,
    };
  }
  return {
    earnings_cents: null,
    earnings_from_favorites_cents: null,
    earnings_currency: null,
    earnings_by_currency: list,
  };
}
