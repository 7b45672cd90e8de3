import { DateTime } from 'luxon';

/** One weekly interval of a schedule: `day` 0–6 (0 = Sunday), "HH:MM" from (inclusive) to (exclusive, may be "24:00"). */
export interface ScheduleInterval {
  day: number;
  from: string;
  to: string;
}

/** A mechanic's availability as stated (CONTRACT §6; intake's `mechanic_availability`). */
export interface Availability {
  available: boolean;
  schedule: ScheduleInterval[] | null;
  /** An IANA time zone name, validated when stated. */
  timezone: string;
}

export interface AvailabilityContext {
  /** The `skip_offline_favorites` setting. */
  skipOffline: boolean;
  /** When the mechanic was last connected to a gateway (presence), epoch ms; null: never seen. */
  lastSeenAt: number | null;
}

/** How recently a mechanic must have been connected to count as online (CONTRACT §6). */
export const ONLINE_WITHIN_MS = 60_000;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `now` (epoch ms) falls inside the weekly schedule, read on the wall clock of `timezone`
 * (Luxon, so daylight-saving changes move the instants, not the wall-clock hours). No schedule: always.
 */
export function inSchedule(schedule: ScheduleInterval[] | null, timezone: string, now: number): boolean {
  if (schedule === null) return true;
  const local = DateTime.fromMillis(now, { zone: timezone });
  const day = local.weekday % 7; // Luxon: 1 = Monday … 7 = Sunday; the contract: 0 = Sunday
  const minute = local.hour * 60 + local.minute;
  return schedule.some((i) => i.day === day && minutesOf(i.from) <= minute && minute < minutesOf(i.to));
}

/**
 * The availability rule (CONTRACT §6): available when the mechanic says so and `now` is inside
 * their schedule (if any), and, when `skip_offline_favorites` is on, they were connected to a
 * gateway within the last 60 s. Routing skips an unavailable favorite instead of offering.
 */
export function isAvailable(availability: Availability, context: AvailabilityContext, now: number): boolean {
  if (!availability.available) return false;
  if (!inSchedule(availability.schedule, availability.timezone, now)) return false;
  if (!context.skipOffline) return true;
  return context.lastSeenAt !== null && now - context.lastSeenAt <= ONLINE_WITHIN_MS;
}
