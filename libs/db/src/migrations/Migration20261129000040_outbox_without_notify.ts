import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox stops serializing commits (issue 9, docs/decisions/002-transactional-outbox.md).
 *
 * - The `outbox_notify` trigger goes: a transaction that issues NOTIFY takes one lock for the
 *   whole database cluster at commit and holds it through the WAL flush, so every booking and
 *   every routing decision committed one after another. The fast path publishes at once and the
 *   relay polls for what it missed.
 * - Rows are deleted once published instead of marked, so the table holds only what is waiting.
 *   Rows marked by the previous release are deleted here; `published_at` stays (unwritten) so
 *   replicas of that release keep working during a rolling update, and nothing reads a row it set.
 */
export class Migration20261129000040OutboxWithoutNotify extends Migration {
  override name = 'Migration20261129000040_outbox_without_notify';

  override up(): void {
    this.addSql(`drop trigger if exists outbox_notify on outbox`);
    this.addSql(`drop function if exists outbox_notify()`);
    this.addSql(`delete from outbox where published_at is not null`);
  }
}
