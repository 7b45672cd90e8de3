import type { Sql } from '@dibs/db';

export interface ScheduleInterval {
  day: number;
  from: string;
  to: string;
}

export interface AvailabilityView {
  available: boolean;
  schedule: ScheduleInterval[] | null;
  timezone: string;
}

/** A mechanic that never said anything: available, at any time, in UTC (CONTRACT §6). */
const DEFAULTS: AvailabilityView = { available: true, schedule: null, timezone: 'UTC' };

/** Mechanics' availability as they state it (`mechanic_availability`; no row: the defaults). */
export function createAvailabilityRepository(sql: Sql) {
  return {
    async get(mechanicId: string): Promise<AvailabilityView> {
      const { rows } = await sql.query<AvailabilityView>(
        'select available, schedule, timezone from mechanic_availability where mechanic_id = $1',
        [mechanicId],
      );
      return rows[0] ?? DEFAULTS;
    },
    /** Replaces what the mechanic said, in one statement. */
    async put(mechanicId: string, availability: AvailabilityView): Promise<AvailabilityView> {
      const { rows } = await sql.query<AvailabilityView>(
        `insert into mechanic_availability (mechanic_id, available, schedule, timezone)
         values ($1, $2, $3::jsonb, $4)
         on conflict (mechanic_id) do update set available = excluded.available, schedule = excluded.schedule,
           timezone = excluded.timezone, updated_at = now()
         returning available, schedule, timezone`,
        [
          mechanicId,
          availability.available,
          availability.schedule === null ? null : JSON.stringify(availability.schedule),
          availability.timezone,
        ],
      );
      return rows[0] as AvailabilityView;
    },
  };
}
export type AvailabilityRepository = ReturnType<typeof createAvailabilityRepository>;
