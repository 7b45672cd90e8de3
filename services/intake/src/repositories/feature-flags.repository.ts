import { FeatureFlag, type Orm } from '@dibs/db';

export interface FlagView {
  flag_key: string;
  flag_name: string;
  description: string | null;
  is_enabled: boolean;
  enabled_for_roles: string[];
  rollout_percentage: number;
  updated_at: string;
}

export interface FlagPatch {
  is_enabled?: boolean | undefined;
  enabled_for_roles?: string[] | undefined;
  rollout_percentage?: number | undefined;
  description?: string | null | undefined;
}

function view(f: FeatureFlag): FlagView {
  return {
    flag_key: f.flag_key,
    flag_name: f.flag_name,
    description: f.description ?? null,
    is_enabled: f.is_enabled,
    enabled_for_roles: [...f.enabled_for_roles],
    rollout_percentage: f.rollout_percentage,
    updated_at: new Date(f.updated_at).toISOString(),
  };
}

/** Feature flags (admin); a change also reaches routing through the table's NOTIFY trigger. */
export function createFeatureFlagsRepository(orm: Orm) {
  return {
    async list(): Promise<FlagView[]> {
      const rows = await orm.em.fork().find(FeatureFlag, {}, { orderBy: { flag_key: 'asc' } });
      return rows.map(view);
    },
    async update(flagKey: string, patch: FlagPatch): Promise<FlagView | undefined> {
      const em = orm.em.fork();
      const flag = await em.findOne(FeatureFlag, { flag_key: flagKey });
      if (!flag) return undefined;
      if (patch.is_enabled !== undefined) flag.is_enabled = patch.is_enabled;
      if (patch.enabled_for_roles !== undefined) flag.enabled_for_roles = patch.enabled_for_roles;
      if (patch.rollout_percentage !== undefined) flag.rollout_percentage = patch.rollout_percentage;
      if (patch.description !== undefined) flag.description = patch.description;
      await em.flush();
      // updated_at is set by the trigger; read it back.
      await em.refresh(flag);
      return view(flag);
    },
  };
}
export type FeatureFlagsRepository = ReturnType<typeof createFeatureFlagsRepository>;
