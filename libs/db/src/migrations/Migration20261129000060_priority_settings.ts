import { Migration } from '@mikro-orm/migrations';

/**
 * Windows as settings (issue 12, CONTRACT §6), intake's: the admin API writes them, the booking
 * statement reads them.
 *
 * - `priority_settings`: one row (`id` is true and nothing else), one column per setting.
 *   `default_window_minutes` stays null until an admin sets it (`PRIORITY_WINDOW_MINUTES` is the
 *   default until then); `tier_windows_minutes` holds 1–3 windows of 1–120 minutes. The checks
 *   refuse what the API refuses, so plain SQL cannot store a setting the API would not.
 *   `updated_at` follows every change, the API's and plain SQL's (trigger).
 * - `mechanics.priority_window_minutes`: a mechanic's own window, null for the default. A new
 *   nullable column: the seed's SQL against `mechanics` keeps running.
 */
export class Migration20261129000060PrioritySettings extends Migration {
  override name = 'Migration20261129000060_priority_settings';

  override up(): void {
    this.addSql(`
      create table priority_settings (
        id boolean primary key default true check (id),
        default_window_minutes integer check (default_window_minutes between 1 and 120),
        tier_windows_minutes integer[] not null default '{5,3,2}' check (
          cardinality(tier_windows_minutes) between 1 and 3
          and array_position(tier_windows_minutes, null) is null
          and 1 <= all (tier_windows_minutes) and 120 >= all (tier_windows_minutes)),
        skip_offline_favorites boolean not null default false,
        updated_at timestamptz not null default now()
      )`);
    this.addSql('insert into priority_settings default values');
    this.addSql(`
      create function priority_settings_touch() returns trigger language plpgsql as $$
      begin
        new.updated_at := now();
        return new;
      end $$`);
    this.addSql(`
      create trigger priority_settings_touch before update on priority_settings
      for each row execute function priority_settings_touch()`);
    this.addSql(`
      alter table mechanics add column priority_window_minutes integer
        check (priority_window_minutes between 1 and 120)`);
  }

  override down(): void {
    this.addSql('alter table mechanics drop column priority_window_minutes');
    this.addSql('drop table priority_settings');
    this.addSql('drop function priority_settings_touch()');
  }
}
