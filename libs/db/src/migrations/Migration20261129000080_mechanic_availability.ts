import { Migration } from '@mikro-orm/migrations';

/**
 * A mechanic's availability (issue 12, CONTRACT §6), intake's: what the mechanic says through
 * `PUT /v1/mechanics/me/availability`. No row means the defaults (available, no schedule, UTC).
 * `schedule` is the list of weekly intervals as the API takes them (JSON), evaluated in `timezone`.
 */
export class Migration20261129000080MechanicAvailability extends Migration {
  override name = 'Migration20261129000080_mechanic_availability';

  override up(): void {
    this.addSql(`
      create table mechanic_availability (
        mechanic_id uuid primary key references mechanics (id) on delete cascade,
        available boolean not null default true,
        schedule jsonb check (schedule is null or jsonb_typeof(schedule) = 'array'),
        timezone text not null default 'UTC',
        updated_at timestamptz not null default now()
      )`);
  }

  override down(): void {
    this.addSql('drop table mechanic_availability');
  }
}
