import type { MechanicStatus, RequestStatus, Role, RoutingType } from '@dibs/contracts';

// The HTTP shapes that `@dibs/contracts` does not hold yet: intake describes them with its own zod
// schemas (services/intake/src/routes/schemas.ts), so the SDK types them here and does not parse
// them. test/http-types.test.ts fails to type-check when the two drift apart. Shapes the contracts
// hold (a session request, the reports, a mechanic's stats) are imported and parsed from there.

/** A mechanic as admins see it (CONTRACT §3, §6). */
export interface Mechanic {
  id: string;
  first_name: string;
  last_name: string;
  email: string;
  status: MechanicStatus;
  /** Its own priority window in minutes; null: the default. */
  priority_window_minutes: number | null;
  created_at: string;
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  created_at: string;
}

export interface FeatureFlag {
  flag_key: string;
  flag_name: string;
  description: string | null;
  is_enabled: boolean;
  enabled_for_roles: string[];
  rollout_percentage: number;
  updated_at: string;
}

/** One of a customer's favorites, ranked first (CONTRACT §6). */
export interface Favorite {
  mechanic_id: string;
  first_name: string;
  last_name: string;
  status: string;
  /** 1–3 when ranked, null when not. */
  rank: number | null;
  created_at: string;
}

/** A customer who favorited the calling mechanic (CONTRACT §7): first name only. */
export interface FavoritedBy {
  customer_id: string;
  first_name: string;
  favorited_at: string;
  rank: number | null;
}

/** `GET|PATCH /v1/admin/settings/priority` (CONTRACT §6). */
export interface PrioritySettings {
  default_window_minutes: number;
  tier_windows_minutes: number[];
  skip_offline_favorites: boolean;
  updated_at: string;
}

/** One weekly interval: `day` 0–6 (0 = Sunday), `from`/`to` as "HH:MM" (`to` may be "24:00"). */
export interface ScheduleInterval {
  day: number;
  from: string;
  to: string;
}

/** A mechanic's availability (CONTRACT §6). */
export interface Availability {
  available: boolean;
  schedule: ScheduleInterval[] | null;
  timezone: string;
}

export interface ExperimentArm {
  name: string;
  window_minutes: number;
  weight: number;
}

/** An experiment on the window length (CONTRACT §7). */
export interface Experiment {
  key: string;
  arms: ExperimentArm[];
  active: boolean;
  created_at: string;
  updated_at: string;
}

/** A plan and its price (CONTRACT §7). */
export interface Plan {
  code: string;
  name: string;
  price_cents: number;
  currency: string;
  updated_at: string;
}

/** An approved mechanic as customers list them (CONTRACT §8). */
export interface MechanicListItem {
  id: string;
  first_name: string;
  last_name: string;
}

/** One page of a list and the cursor of the next (null: the last page). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `PUT /v1/favorites/:mechanic_id`: `created` is true when it was not a favorite before (201). */
export interface FavoriteAdded {
  mechanic_id: string;
  favorite: true;
  created: boolean;
}

export interface CreateMechanicBody {
  first_name: string;
  last_name: string;
  email: string;
}

export interface PatchMechanicBody {
  status?: MechanicStatus;
  /** null: the default window again. */
  priority_window_minutes?: number | null;
}

export interface CreateCustomerBody {
  name: string;
  email: string;
}

export interface PatchFlagBody {
  is_enabled?: boolean;
  enabled_for_roles?: Role[];
  rollout_percentage?: number;
  description?: string | null;
}

export interface PatchPrioritySettingsBody {
  /** null: back to PRIORITY_WINDOW_MINUTES. */
  default_window_minutes?: number | null;
  tier_windows_minutes?: number[];
  skip_offline_favorites?: boolean;
}

/** A PUT replaces all: what is left out takes its default (`schedule: null`, `timezone: "UTC"`). */
export interface PutAvailabilityBody {
  available: boolean;
  schedule?: ScheduleInterval[] | null;
  timezone?: string;
}

export interface CreateExperimentBody {
  key: string;
  arms: ExperimentArm[];
  /** Created inactive unless true. */
  active?: boolean;
}

export interface PutPlanBody {
  name: string;
  price_cents: number;
  currency: string;
}

/** `POST /v1/session-requests` (CONTRACT §3, §6). */
export interface BookingBody {
  session_type: string;
  plan_code: string;
  preferred_mechanic_id?: string | null;
  routing_type?: RoutingType;
  preferred_workshop_id?: string | null;
}

export interface SessionRequestListQuery {
  status?: RequestStatus;
  limit?: number;
  cursor?: string;
}

export interface MechanicListQuery {
  query?: string;
  limit?: number;
  cursor?: string;
}

/** The period of a report (ISO-8601 instants). */
export interface ReportRange {
  from?: string;
  to?: string;
}
