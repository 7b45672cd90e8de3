import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

// Property names are the column names (snake_case), so a row maps onto the public contract
// without a translation table.

export const Mechanic = defineEntity({
  name: 'Mechanic',
  tableName: 'mechanics',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    first_name: p.text(),
    last_name: p.text(),
    email: p.text(),
    status: p.text().default('pending'),
    /** Its own priority window (CONTRACT §6); null: the default of `priority_settings`. */
    priority_window_minutes: p.integer().nullable(),
    created_at: p.datetime().defaultRaw('now()'),
  },
});
export type Mechanic = InferEntity<typeof Mechanic>;

export const Customer = defineEntity({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.text(),
    email: p.text(),
    created_at: p.datetime().defaultRaw('now()'),
  },
});
export type Customer = InferEntity<typeof Customer>;

export const Favorite = defineEntity({
  name: 'Favorite',
  tableName: 'favorites',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    customer_id: p.uuid(),
    mechanic_id: p.uuid(),
    created_at: p.datetime().defaultRaw('now()'),
  },
});
export type Favorite = InferEntity<typeof Favorite>;

export const FeatureFlag = defineEntity({
  name: 'FeatureFlag',
  tableName: 'feature_flags',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    flag_key: p.text(),
    flag_name: p.text(),
    description: p.text().nullable(),
    is_enabled: p.boolean().default(false),
    enabled_for_roles: p.array().default([]),
    rollout_percentage: p.integer().default(100),
    created_at: p.datetime().defaultRaw('now()'),
    updated_at: p.datetime().defaultRaw('now()'),
  },
});
export type FeatureFlag = InferEntity<typeof FeatureFlag>;

// Entities are the rows handled as aggregates (intake's admin and favorites routes). Session
// requests and outbox rows are only ever reached by set-based SQL (docs/decisions/014-data-access.md):
// `SessionRequestSchema` in @dibs/contracts describes a request, the outbox its table.
export const entities = [Mechanic, Customer, Favorite, FeatureFlag];
