import type { MechanicStatus } from '@dibs/contracts';
import type { Sql } from '@dibs/db';
import type { MechanicState } from '../domain/request-state.js';
import type { Availability, ScheduleInterval } from '../domain/rules/availability.js';

/** Mechanics a request may be offered to, as they are now, and the `skip_offline_favorites` setting. */
export interface Candidates {
  mechanics: Map<string, { state: MechanicState; availability: Availability }>;
  skipOffline: boolean;
}

// intake's `mechanic_availability` and `priority_settings` are read here (docs/decisions/013-table-ownership.md,
// read 8): what a mechanic says about themselves, and the operators' setting, at the moment of deciding.
const CANDIDATES_SQL = `
  select m.id, m.status, a.available, a.schedule, a.timezone,
         coalesce((select s.skip_offline_favorites from priority_settings s), false) as skip_offline
  from mechanics m left join mechanic_availability a on a.mechanic_id = m.id
  where m.id = any($1::uuid[])`;

/** The mechanics of `ids` that exist, with their availability (defaults when they stated none). */
export async function loadCandidates(db: Sql, ids: string[]): Promise<Candidates> {
  const { rows } = await db.query<{
    id: string;
    status: MechanicStatus;
    available: boolean | null;
    schedule: ScheduleInterval[] | null;
    timezone: string | null;
    skip_offline: boolean;
  }>({ name: 'routing-load-candidates', text: CANDIDATES_SQL, values: [ids] });
  const mechanics: Candidates['mechanics'] = new Map();
  for (const r of rows) {
    mechanics.set(r.id, {
      state: { id: r.id, status: r.status },
      availability: { available: r.available ?? true, schedule: r.schedule ?? null, timezone: r.timezone ?? 'UTC' },
    });
  }
  // With no mechanic found the setting is not in the rows; it does not matter then.
  return { mechanics, skipOffline: rows[0]?.skip_offline ?? false };
}
