import { Migration } from '@mikro-orm/migrations';

/**
 * The seed's schema (CONTRACT §5): the FK, the three indexes and the feature flag exactly as the
 * seed created them, plus what dibs adds (customers, favorites, declines, the outbox).
 * Never edit a shipped migration: add a new one.
 */
export class Migration20261123000001Initial extends Migration {
  override name = 'Migration20261123000001_initial';

  override up(): void {
    this.addSql(`create extension if not exists pgcrypto`);

    this.addSql(`
      create table mechanics (
        id uuid primary key default gen_random_uuid(),
        first_name text not null,
        last_name text not null,
        email text not null unique,
        status text not null default 'pending' check (status in ('pending', 'approved', 'suspended')),
        created_at timestamptz not null default now()
      )`);

    this.addSql(`
      create table customers (
        id uuid primary key default gen_random_uuid(),
        name text not null,
        email text not null unique,
        created_at timestamptz not null default now()
      )`);

    this.addSql(`
      create table favorites (
        id uuid primary key default gen_random_uuid(),
        customer_id uuid not null references customers (id) on delete cascade,
        mechanic_id uuid not null references mechanics (id) on delete cascade,
        created_at timestamptz not null default now(),
        constraint favorites_customer_mechanic_key unique (customer_id, mechanic_id)
      )`);
    this.addSql(`create index favorites_mechanic_idx on favorites (mechanic_id)`);

    this.addSql(`
      create table feature_flags (
        id uuid primary key default gen_random_uuid(),
        flag_key text not null unique,
        flag_name text not null,
        description text,
        is_enabled boolean not null default false,
        enabled_for_roles text[] not null default '{}',
        rollout_percentage integer not null default 100 check (rollout_percentage between 0 and 100),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);

    this.addSql(`
      create table session_requests (
        id uuid primary key default gen_random_uuid(),
        customer_id uuid not null references customers (id) on delete cascade,
        customer_name text,
        customer_email text,
        session_type text not null,
        plan_code text not null,
        status text not null default 'pending' check (status in ('pending', 'accepted', 'cancelled')),
        routing_type text not null default 'broadcast' check (routing_type in ('broadcast', 'priority_broadcast')),
        preferred_workshop_id uuid,
        broadcast_at timestamptz,
        fallback_reason text check (fallback_reason in ('priority_timeout', 'priority_declined', 'priority_failed', 'flag_disabled')),
        mechanic_id uuid references mechanics (id) on delete set null,
        accepted_at timestamptz,
        cancelled_at timestamptz,
        priority_expires_at timestamptz,
        idempotency_key text,
        request_hash text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint session_requests_idempotency_key unique (customer_id, idempotency_key)
      )`);
    this.addSql(
      `create index session_requests_customer_created_idx on session_requests (customer_id, created_at desc, id desc)`,
    );
    this.addSql(`create index session_requests_pending_idx on session_requests (created_at) where status = 'pending'`);

    // The seed's Phase 4 migration, statement for statement.
    this.addSql(`alter table public.session_requests add column if not exists preferred_mechanic_id uuid`);
    this.addSql(
      `alter table public.session_requests add column if not exists priority_window_minutes integer default 10`,
    );
    this.addSql(`alter table public.session_requests add column if not exists priority_notified_at timestamptz`);
    // The seed declares the column NOT NULL in its schema table; the ALTER alone leaves it nullable.
    this.addSql(`alter table public.session_requests alter column priority_window_minutes set not null`);
    this.addSql(`
      alter table public.session_requests
      add constraint session_requests_preferred_mechanic_id_fkey
      foreign key (preferred_mechanic_id)
      references public.mechanics(id)
      on delete set null`);
    this.addSql(`
      create index session_requests_preferred_mechanic_idx
      on session_requests(preferred_mechanic_id)
      where preferred_mechanic_id is not null`);
    this.addSql(`
      create index session_requests_priority_analytics_idx
      on session_requests(preferred_mechanic_id, priority_notified_at, status)
      where preferred_mechanic_id is not null`);
    this.addSql(`
      create index session_requests_priority_timeout_idx
      on session_requests(priority_notified_at, status)
      where priority_notified_at is not null and status = 'pending'`);

    // A mechanic who declined is never offered that request again.
    this.addSql(`
      create table session_request_declines (
        request_id uuid not null references session_requests (id) on delete cascade,
        mechanic_id uuid not null references mechanics (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (request_id, mechanic_id)
      )`);

    this.addSql(`
      create table outbox (
        id uuid primary key,
        subject text not null,
        payload jsonb not null,
        created_at timestamptz not null default clock_timestamp(),
        published_at timestamptz,
        attempts integer not null default 0
      )`);
    this.addSql(`create index outbox_unpublished_idx on outbox (created_at) where published_at is null`);
    // Wakes the relay the moment a transaction that wrote outbox rows commits (NOTIFY is
    // delivered on commit), so publishing needs no polling sleep on the happy path.
    this.addSql(`
      create function outbox_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('dibs_outbox', '');
        return null;
      end $$`);
    this.addSql(`
      create trigger outbox_notify after insert on outbox
      for each statement execute function outbox_notify()`);

    // Any change to a flag, through the API or plain SQL, tells every cache within milliseconds.
    this.addSql(`
      create function feature_flags_changed() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' then
          new.updated_at := now();
        end if;
        perform pg_notify('dibs_feature_flags', coalesce(new.flag_key, old.flag_key));
        return coalesce(new, old);
      end $$`);
    this.addSql(`
      create trigger feature_flags_changed before insert or update or delete on feature_flags
      for each row execute function feature_flags_changed()`);

    // The seed's flag migration.
    this.addSql(`
      insert into feature_flags (flag_key, flag_name, description, is_enabled, enabled_for_roles, rollout_percentage)
      values (
        'ENABLE_FAVORITES_PRIORITY',
        'Favorites Priority Broadcast',
        'Enables priority notification to favorite mechanic (10-minute window) before broadcasting to all mechanics.',
        false,
        array['admin', 'customer'],
        100
      )
      on conflict (flag_key) do nothing`);
  }
}
