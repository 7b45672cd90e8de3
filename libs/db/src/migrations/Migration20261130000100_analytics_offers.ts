import { Migration } from '@mikro-orm/migrations';

/**
 * Analytics' facts per tier of a priority request (issue 12, CONTRACT §6 `offers`): one row per
 * (request, tier) reached, merged from every event that shows it, as `analytics_request_facts` is
 * per request (services/analytics/README.md). No foreign keys and no check on `outcome`, as in
 * the first analytics migration: the history outlives the rows it describes, and an outcome a later
 * contract adds must never make a batch fail forever (the event's schema already vets it).
 */
export class Migration20261130000100AnalyticsOffers extends Migration {
  override name = 'Migration20261130000100_analytics_offers';

  override up(): void {
    this.addSql(`
      create table analytics_offer_facts (
        request_id uuid not null,
        tier smallint not null,
        mechanic_id uuid not null,
        offered_at timestamptz,
        expires_at timestamptz,
        outcome text,
        primary key (request_id, tier)
      )`);
    // A mechanic's offers (their stats); the reports reach offers through their request's key.
    this.addSql(`create index analytics_offer_facts_mechanic_idx on analytics_offer_facts (mechanic_id)`);
  }

  override down(): void {
    this.addSql('drop table if exists analytics_offer_facts');
  }
}
