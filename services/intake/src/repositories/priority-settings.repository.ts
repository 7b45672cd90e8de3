import type { Sql } from '@dibs/db';

export interface PrioritySettingsView {
  default_window_minutes: number;
  tier_windows_minutes: number[];
  skip_offline_favorites: boolean;
  updated_at: string;
}

export interface PrioritySettingsPatch {
  default_window_minutes?: number | null | undefined;
  tier_windows_minutes?: number[] | undefined;
  skip_offline_favorites?: boolean | undefined;
}

interface Row {
  default_window_minutes: number | null;
  tier_windows_minutes: number[];
  skip_offline_favorites: boolean;
  updated_at: string | Date;
}

const COLUMNS = 'default_window_minutes, tier_windows_minutes, skip_offline_favorites, updated_at';

/**
 * The priority settings (CONTRACT §6): the one row of `priority_settings`. The booking statement
 * reads the row itself at each booking, so nothing here is cached and a change (here or by plain
 * SQL) governs the next booking. `fallbackWindow` is PRIORITY_WINDOW_MINUTES, in force until an
 * admin sets `default_window_minutes`.
 */
export function createPrioritySettingsRepository(sql: Sql, fallbackWindow: number) {
  const view = (row: Row): PrioritySettingsView => ({
    default_window_minutes: row.default_window_minutes ?? fallbackWindow,
    tier_windows_minutes: row.tier_windows_minutes,
    skip_offline_favorites: row.skip_offline_favorites,
    updated_at: new Date(row.updated_at).toISOString(),
  });
  return {
    async get(): Promise<PrioritySettingsView> {
      const { rows } = await sql.query<Row>(`select ${COLUMNS} from priority_settings`);
      return view(rows[0] as Row);
    },
    /** Changes what `patch` names, in one statement; an absent field stays as it is. */
    async update(patch: PrioritySettingsPatch): Promise<PrioritySettingsView> {
      const { rows } = await sql.query<Row>(
        `update priority_settings set
           default_window_minutes = case when $1 then $2::integer else default_window_minutes end,
           tier_windows_minutes = coalesce($3::integer[], tier_windows_minutes),
           skip_offline_favorites = coalesce($4::boolean, skip_offline_favorites)
         returning ${COLUMNS}`,
        [
          patch.default_window_minutes !== undefined,
          patch.default_window_minutes ?? null,
          patch.tier_windows_minutes ?? null,
          patch.skip_offline_favorites ?? null,
        ],
      );
      return view(rows[0] as Row);
    },
  };
}
export type PrioritySettingsRepository = ReturnType<typeof createPrioritySettingsRepository>;
