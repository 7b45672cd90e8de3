import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 13 (CONTRACT §7), routing's table `session_requests`:
 * - `experiment_key`, `experiment_arm`: the experiment arm a single-priority request was enrolled
 *   in, written with the row by intake's booking statement (like `priority_tiers`) and never
 *   changed; both or neither.
 * - `price_cents`, `currency`: the request's plan's price when it was accepted, written by
 *   routing's accept; null for an unknown plan (counted apart) and until accepted.
 */
export class Migration20261130000110RequestExperimentAndPrice extends Migration {
  override name = 'Migration20261130000110_request_experiment_and_price';

  override up(): void {
    this.addSql(`alter table session_requests
      add column experiment_key text,
      add column experiment_arm text,
      add column price_cents integer check (price_cents >= 0),
      add column currency text check (currency ~ '^[A-Z]{3}$'),
      add constraint session_requests_experiment_check check ((experiment_key is null) = (experiment_arm is null)),
      add constraint session_requests_price_check check ((price_cents is null) = (currency is null))`);
  }

  override down(): void {
    this.addSql(`alter table session_requests drop column experiment_key, drop column experiment_arm,
      drop column price_cents, drop column currency`);
  }
}
