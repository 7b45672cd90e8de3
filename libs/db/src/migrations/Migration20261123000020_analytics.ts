import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics' own read model (services/analytics), fed only by lifecycle events; see
 * docs/decisions/005-analytics-read-model.md. No foreign keys: the history outlives the rows it
 * describes (a deleted mechanic's requests still count), and replay must never fail on them.
 */
export class Migration20261123000020Analytics extends Migration {
  override name = 'Migration20261123000020_analytics';

  override up(): void {
    // One row per session request: the monotonic facts merged from every event seen for it.
    this.addSql(`
      create table analytics_request_facts (
        request_id uuid primary key,
        created_at timestamptz not null,
        routing_type text not null,
        preferred_mechanic_id uuid,
        preferred_workshop_id uuid,
        priority_window_minutes integer not null,
        priority_notified_at timestamptz,
        priority_expires_at timestamptz,
        broadcast_at timestamptz,
        fallback_reason text,
        status text not null check (status in ('pending', 'accepted', 'cancelled')),
        mechanic_id uuid,
        accepted_at timestamptz,
        cancelled_at timestamptz
      )`);
    this.addSql(`
      create index analytics_request_facts_priority_idx
      on analytics_request_facts (preferred_mechanic_id, created_at)
      where preferred_mechanic_id is not null and priority_notified_at is not null`);
    this.addSql(`create index analytics_request_facts_created_idx on analytics_request_facts (created_at)`);

    // Every event applied, by its id (= outbox id = Nats-Msg-Id): the projection's ledger.
    this.addSql(`
      create table analytics_events (
        event_id uuid primary key,
        request_id uuid not null,
        kind text not null,
        occurred_at timestamptz not null,
        stream_seq bigint,
        processed_at timestamptz not null default now()
      )`);
    this.addSql(`create index analytics_events_request_idx on analytics_events (request_id)`);
  }

  override down(): void {
    this.addSql('drop table if exists analytics_events');
    this.addSql('drop table if exists analytics_request_facts');
  }
}
