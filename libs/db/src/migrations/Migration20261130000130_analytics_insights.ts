import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics' facts for issue 13 (CONTRACT §7: experiments, the mechanic's dashboard, revenue,
 * seen acks), merged from events like the rest of the read model (services/analytics/README.md):
 * - `analytics_request_facts` gains the customer (repeat customers, LTV), the experiment arm the
 *   request was enrolled in, and its price when accepted (null: unknown plan). Rows projected
 *   before this migration have them null until `npm run analytics:rebuild`.
 * - `analytics_seen_facts`: one row per (request, mechanic), the earliest seen ack of an offer.
 * No foreign keys and no checks on values an event's schema already vets, as in the first
 * analytics migration: a replay must never fail on history.
 */
export class Migration20261130000130AnalyticsInsights extends Migration {
  override name = 'Migration20261130000130_analytics_insights';

  override up(): void {
    this.addSql(`alter table analytics_request_facts
      add column customer_id uuid,
      add column experiment_key text,
      add column experiment_arm text,
      add column price_cents integer,
      add column currency text`);
    // The experiment report reads one experiment's requests; the dashboard one mechanic's accepted ones.
    this.addSql(`
      create index analytics_request_facts_experiment_idx on analytics_request_facts (experiment_key, experiment_arm)
      where experiment_key is not null`);
    this.addSql(`
      create index analytics_request_facts_accepted_by_idx on analytics_request_facts (mechanic_id)
      where status = 'accepted'`);

    this.addSql(`
      create table analytics_seen_facts (
        request_id uuid not null,
        mechanic_id uuid not null,
        offer text not null,
        tier smallint,
        seen_at timestamptz not null,
        primary key (request_id, mechanic_id)
      )`);
  }

  override down(): void {
    this.addSql('drop table if exists analytics_seen_facts');
    this.addSql('drop index if exists analytics_request_facts_experiment_idx');
    this.addSql('drop index if exists analytics_request_facts_accepted_by_idx');
    this.addSql(`alter table analytics_request_facts drop column customer_id, drop column experiment_key,
      drop column experiment_arm, drop column price_cents, drop column currency`);
  }
}
