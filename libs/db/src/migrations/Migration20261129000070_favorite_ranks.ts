import { Migration } from '@mikro-orm/migrations';

/**
 * Ranked favorites (issue 12, CONTRACT §6), intake's: `favorites.rank`, 1–3 or null (unranked).
 * A customer's ranks are unique; the constraint is checked at the end of each statement
 * (deferrable), so one UPDATE can reorder a customer's ranking (1 ↔ 2) without tripping over itself.
 * A new nullable column: the seed's SQL against `favorites` keeps running.
 */
export class Migration20261129000070FavoriteRanks extends Migration {
  override name = 'Migration20261129000070_favorite_ranks';

  override up(): void {
    this.addSql('alter table favorites add column rank smallint check (rank between 1 and 3)');
    this.addSql(`
      alter table favorites add constraint favorites_customer_rank_unique unique (customer_id, rank)
        deferrable initially immediate`);
  }

  override down(): void {
    this.addSql('alter table favorites drop column rank');
  }
}
