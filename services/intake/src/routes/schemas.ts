import { CurrencySchema, MechanicStatusSchema, SessionRequestSchema } from '@dibs/contracts';
import { IANAZone } from 'luxon';
import { z } from 'zod';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const timestamp = z.iso.datetime({ offset: true });

export const MechanicSchema = z
  .object({
    id: z.uuid(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    status: MechanicStatusSchema,
    /** Its own priority window (CONTRACT §6); null: the default. */
    priority_window_minutes: z.number().int().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'Mechanic' });

/** A priority window, in minutes (CONTRACT §6). */
const windowMinutes = z.number().int().min(1).max(120);
const atLeastOne = [
  (b: object) => Object.keys(b).length > 0,
  { message: 'give at least one field to change' },
] as const;

export const PrioritySettingsSchema = z
  .object({
    /** The value in force: PRIORITY_WINDOW_MINUTES until an admin sets one. */
    default_window_minutes: windowMinutes,
    tier_windows_minutes: z.array(windowMinutes),
    skip_offline_favorites: z.boolean(),
    updated_at: timestamp,
  })
  .meta({ id: 'PrioritySettings' });

export const PatchPrioritySettingsBody = z
  .strictObject({
    /** null: back to PRIORITY_WINDOW_MINUTES. */
    default_window_minutes: windowMinutes.nullable().optional(),
    tier_windows_minutes: z.array(windowMinutes).min(1).max(3).optional(),
    skip_offline_favorites: z.boolean().optional(),
  })
  .refine(...atLeastOne);

export const CustomerSchema = z
  .object({ id: z.uuid(), name: z.string(), email: z.string(), created_at: timestamp })
  .meta({ id: 'Customer' });

export const FlagSchema = z
  .object({
    flag_key: z.string(),
    flag_name: z.string(),
    description: z.string().nullable(),
    is_enabled: z.boolean(),
    enabled_for_roles: z.array(z.string()),
    rollout_percentage: z.number().int(),
    updated_at: timestamp,
  })
  .meta({ id: 'FeatureFlag' });

export const FavoriteSchema = z
  .object({
    mechanic_id: z.uuid(),
    first_name: z.string(),
    last_name: z.string(),
    status: z.string(),
    /** 1–3 when ranked (CONTRACT §6), null when not; ranked favorites come first, in rank order. */
    rank: z.number().int().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'Favorite' });

export const FavoritesOrderBody = z.strictObject({
  mechanic_ids: z
    .array(z.uuid())
    .min(1)
    .max(3)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'the ids must be distinct' }),
});

/** A customer who favorited the calling mechanic (CONTRACT §7): a first name only, for privacy. */
export const FavoritedBySchema = z
  .object({
    customer_id: z.uuid(),
    first_name: z.string(),
    favorited_at: timestamp,
    /** Where the customer ranks this mechanic (1–3), null when unranked. */
    rank: z.number().int().nullable(),
  })
  .meta({ id: 'FavoritedBy' });

export const SessionRequestResponse = SessionRequestSchema.meta({ id: 'SessionRequest' });

export const IdParams = z.strictObject({ id: z.uuid() });
export const MechanicIdParams = z.strictObject({ mechanic_id: z.uuid() });

const name = (max: number) => z.string().trim().min(1).max(max);
export const CreateMechanicBody = z.strictObject({
  first_name: name(100),
  last_name: name(100),
  email: z.email().max(254),
});
export const PatchMechanicBody = z
  .strictObject({
    status: MechanicStatusSchema.optional(),
    /** null: the default window again. */
    priority_window_minutes: windowMinutes.nullable().optional(),
  })
  .refine(...atLeastOne);
export const CreateCustomerBody = z.strictObject({ name: name(200), email: z.email().max(254) });
export const PatchFlagBody = z
  .strictObject({
    is_enabled: z.boolean().optional(),
    enabled_for_roles: z
      .array(z.enum(['customer', 'mechanic', 'admin']))
      .max(3)
      .optional(),
    rollout_percentage: z.number().int().min(0).max(100).optional(),
    description: z.string().max(1000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });

/** Error responses every protected route may give, for the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));
}

/** A clock time "HH:MM", 00:00–23:59; `to` may also be "24:00" (the end of the day). */
const clock = (endOfDay: boolean) =>
  z.string().regex(endOfDay ? /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/ : /^([01]\d|2[0-3]):[0-5]\d$/, {
    message: endOfDay ? 'a time "HH:MM" from 00:00 to 24:00' : 'a time "HH:MM" from 00:00 to 23:59',
  });

/** One weekly interval of a mechanic's schedule: `day` 0–6 (0 = Sunday), `from` before `to`. */
const ScheduleInterval = z
  .strictObject({ day: z.number().int().min(0).max(6), from: clock(false), to: clock(true) })
  .refine((i) => i.from < i.to, {
    message: '`from` must be before `to` (split a night across two days)',
    path: ['to'],
  });

export const AvailabilitySchema = z
  .object({
    available: z.boolean(),
    schedule: z.array(ScheduleInterval).nullable(),
    timezone: z.string(),
  })
  .meta({ id: 'Availability' });

/** What a mechanic says (CONTRACT §6); a field left out takes its default (a PUT replaces all). */
export const PutAvailabilityBody = z.strictObject({
  available: z.boolean(),
  schedule: z.array(ScheduleInterval).max(100).nullable().default(null),
  timezone: z
    .string()
    .max(100)
    .refine((tz) => IANAZone.isValidZone(tz) && !/^[+-]|^UTC[+-]/i.test(tz), { message: 'not an IANA time zone name' })
    .default('UTC'),
});

/** An experiment's key: lowercase letters, digits, `_` and `-`, up to 64 (`experiments.key`'s check). */
export const ExperimentKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, {
  message: 'lowercase letters, digits, "_" and "-", 1–64, not starting with "_" or "-"',
});

/** One arm of an experiment: its window and its relative weight in the assignment. */
const ExperimentArmSchema = z.strictObject({
  name: name(64),
  window_minutes: windowMinutes,
  /** Relative: [1, 2, 1] sends a quarter, a half and a quarter of the customers to each arm. */
  weight: z.number().positive().max(1_000_000),
});

export const ExperimentSchema = z
  .object({
    key: z.string(),
    arms: z.array(z.object({ name: z.string(), window_minutes: z.number().int(), weight: z.number() })),
    active: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Experiment' });

export const CreateExperimentBody = z.strictObject({
  key: ExperimentKeySchema,
  arms: z
    .array(ExperimentArmSchema)
    .min(2)
    .max(4)
    .superRefine((arms, ctx) => {
      const seen = new Set<string>();
      arms.forEach((arm, i) => {
        if (seen.has(arm.name))
          ctx.addIssue({ code: 'custom', message: 'arm names must be distinct', path: [i, 'name'] });
        seen.add(arm.name);
      });
    }),
  /** Created inactive unless true; at most one experiment is active (409 `experiment_active`). */
  active: z.boolean().default(false),
});
export const PatchExperimentBody = z.strictObject({ active: z.boolean() });
export const ExperimentKeyParams = z.strictObject({ key: ExperimentKeySchema });

export const PlanSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    price_cents: z.number().int(),
    currency: z.string(),
    updated_at: timestamp,
  })
  .meta({ id: 'Plan' });

/** A plan's code, as bookings give it in `plan_code` (trimmed, 1–100 characters). */
export const PlanCodeParams = z.strictObject({
  code: z
    .string()
    .min(1)
    .max(100)
    .refine((code) => code === code.trim(), {
      message: 'must not start or end with whitespace (a plan_code is trimmed)',
    }),
});
export const PutPlanBody = z.strictObject({
  name: name(100),
  /** Integer cents; PostgreSQL's integer bounds it. */
  price_cents: z.number().int().min(0).max(2_147_483_647),
  currency: CurrencySchema,
});

/** An approved mechanic in the directory customers pick favorites from (CONTRACT §8): a name only. */
export const MechanicListItemSchema = z
  .object({ id: z.uuid(), first_name: z.string(), last_name: z.string() })
  .meta({ id: 'MechanicListItem' });
