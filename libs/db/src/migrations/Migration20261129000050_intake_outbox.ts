import { Migration } from '@mikro-orm/migrations';

/**
 * One outbox per writing service (issue 11 §2, docs/decisions/013-table-ownership.md): intake gets
 * `intake_outbox`; `outbox` stays routing's, under its old name. Each service's relay polls its
 * own table only, so neither publishes the other's rows.
 *
 * - `intake_outbox` has the columns and the partial index of `outbox`, so both relays run the
 *   same one indexed query. Its `published_at` is never written either (see …040).
 * - Rows still waiting in `outbox` move to their owner in one statement: `request.created` is
 *   the only kind intake writes; every other kind is routing's and stays. A relay holding some of
 *   them (FOR UPDATE) delays the statement until it commits; the rows it deleted meanwhile are
 *   not moved, so none is published twice beyond what the stream's duplicate window drops.
 * - During a rolling update an intake replica of the previous release still writes into
 *   `outbox`; routing's relay publishes those rows, so none is lost. Once every intake replica
 *   runs this release, nothing writes another service's outbox.
 */
export class Migration20261129000050IntakeOutbox extends Migration {
  override name = 'Migration20261129000050_intake_outbox';

  override up(): void {
    this.addSql(`
      create table intake_outbox (
        id uuid primary key,
        subject text not null,
        payload jsonb not null,
        created_at timestamptz not null default clock_timestamp(),
        published_at timestamptz,
        attempts integer not null default 0
      )`);
    this.addSql(`create index intake_outbox_unpublished_idx on intake_outbox (created_at) where published_at is null`);
    this.addSql(`
      with moved as (
        delete from outbox where subject = 'events.request.created'
        returning id, subject, payload, created_at, published_at, attempts
      )
      insert into intake_outbox (id, subject, payload, created_at, published_at, attempts)
      select id, subject, payload, created_at, published_at, attempts from moved`);
  }
}
