import type { SessionRequest } from '@dibs/client';

// How the console writes numbers, times and states for people.

/** "12:04:05" today, else "3 Nov, 12:04". */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** "4:05" for 245 s, "1:02:03" past an hour. */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A value as the API sent it, or a dash for null. */
export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : String(value);
}

/** Cents as "19.00 EUR". */
export function money(cents: number | null | undefined, currency: string | null | undefined): string {
  if (cents === null || cents === undefined) return '—';
  return `${(cents / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;
}

/** The first 8 characters of a uuid, as people read ids out. */
export const shortId = (id: string) => id.slice(0, 8);

export const ROUTING_LABELS: Record<SessionRequest['routing_type'], string> = {
  broadcast: 'everyone at once',
  priority_broadcast: 'a favorite first',
  priority_sequence: 'ranked favorites in turn',
};

export const FALLBACK_LABELS: Record<NonNullable<SessionRequest['fallback_reason']>, string> = {
  priority_timeout: 'the priority window ended unanswered',
  priority_declined: 'the favorite declined',
  priority_failed: 'the favorite could not be offered it',
  flag_disabled: 'favorites priority is off',
  priority_unavailable: 'no favorite was available',
};

export const OUTCOME_LABELS: Record<NonNullable<SessionRequest['offers'][number]['outcome']>, string> = {
  accepted: 'accepted',
  declined: 'declined',
  timeout: 'let it pass',
  skipped_unavailable: 'skipped (away)',
  skipped_not_approved: 'skipped (not approved)',
  withdrawn: 'withdrawn',
};
