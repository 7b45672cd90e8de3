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

export const SessionRequestRow = defineEntity({
  name: 'SessionRequestRow',
  tableName: 'session_requests',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    customer_id: p.uuid(),
    customer_name: p.text().nullable(),
    customer_email: p.text().nullable(),
    session_type: p.text(),
    plan_code: p.text(),
    status: p.text().default('pending'),
    routing_type: p.text().default('broadcast'),
    preferred_mechanic_id: p.uuid().nullable(),
    preferred_workshop_id: p.uuid().nullable(),
    priority_window_minutes: p.integer().default(10),
    priority_notified_at: p.datetime().nullable(),
    priority_expires_at: p.datetime().nullable(),
    broadcast_at: p.datetime().nullable(),
    fallback_reason: p.text().nullable(),
    mechanic_id: p.uuid().nullable(),
    accepted_at: p.datetime().nullable(),
    cancelled_at: p.datetime().nullable(),
    idempotency_key: p.text().nullable(),
    request_hash: p.text().nullable(),
    created_at: p.datetime().defaultRaw('now()'),
    updated_at: p.datetime().defaultRaw('now()'),
  },
});
export type SessionRequestRow = InferEntity<typeof SessionRequestRow>;

export const OutboxMessage = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox',
  properties: {
    id: p.uuid().primary(),
    subject: p.text(),
    payload: p.json<Record<string, unknown>>(),
    created_at: p.datetime().defaultRaw('clock_timestamp()'),
    published_at: p.datetime().nullable(),
    attempts: p.integer().default(0),
  },
});
export type OutboxMessage = InferEntity<typeof OutboxMessage>;

export const entities = [Mechanic, Customer, Favorite, FeatureFlag, SessionRequestRow, OutboxMessage];
