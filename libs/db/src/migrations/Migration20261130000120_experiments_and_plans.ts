import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 13 (CONTRACT §7), intake's tables; the admin API writes them, and the checks refuse what
 * the API refuses where SQL can, so plain SQL cannot store what the API would not:
 * - `experiments`: A/B tests of the priority window. `arms` is the API's list of 2–4
 *   `{name, window_minutes, weight}` (distinct names, windows 1–120, weights > 0 and ≤ 1 000 000),
 *   in the order the arms were given, which the assignment hash depends on. **At most one is
 *   active**, enforced by the unique partial index `experiments_one_active`: a second activation
 *   (API or SQL, racing or not) fails with a unique violation naming it. Intake's booking statement
 *   reads the active one; analytics reads `key`, `arms`, `active` (ADR 013).
 * - `plans`: a plan's price in integer cents of one ISO 4217 currency, keyed by the `plan_code`
 *   bookings carry; routing reads it when a request is accepted (ADR 013 §9).
 * `updated_at` follows every change, the API's and plain SQL's (trigger).
 */
export class Migration20261130000120ExperimentsAndPlans extends Migration {
  override name = 'Migration20261130000120_experiments_and_plans';

  override up(): void {
    // A case at each step: a check must answer false for a malformed value, never raise a cast error.
    this.addSql(`
      create function experiment_arms_valid(arms jsonb) returns boolean language sql immutable as $$
        select case
          when jsonb_typeof(arms) <> 'array' or jsonb_array_length(arms) not between 2 and 4 then false
          else (select bool_and(case
                  when jsonb_typeof(a) <> 'object' then false
                  when (select array_agg(k order by k) from jsonb_object_keys(a) k)
                    <> array['name', 'weight', 'window_minutes'] then false
                  when jsonb_typeof(a -> 'name') <> 'string' or jsonb_typeof(a -> 'window_minutes') <> 'number'
                    or jsonb_typeof(a -> 'weight') <> 'number' then false
                  else ${this.trimmed("a ->> 'name'")} and char_length(a ->> 'name') <= 64
                    and (a ->> 'window_minutes')::numeric between 1 and 120
                    and (a ->> 'window_minutes')::numeric = trunc((a ->> 'window_minutes')::numeric)
                    and (a ->> 'weight')::numeric > 0 and (a ->> 'weight')::numeric <= 1000000
                  end)
                from jsonb_array_elements(arms) a)
            and (select count(distinct a ->> 'name') from jsonb_array_elements(arms) a) = jsonb_array_length(arms)
          end
      $$`);
    this.addSql(`
      create table experiments (
        key text primary key check (key ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        arms jsonb not null constraint experiments_arms_check check (experiment_arms_valid(arms)),
        active boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql('create unique index experiments_one_active on experiments ((true)) where active');
    this.addSql(`
      create table plans (
        code text primary key check (${this.trimmed('code')} and char_length(code) <= 100),
        name text not null check (${this.trimmed('name')} and char_length(name) <= 100),
        price_cents integer not null check (price_cents >= 0),
        currency text not null check (currency ~ '^[A-Z]{3}$'),
        updated_at timestamptz not null default now()
      )`);
    this.addSql(`
      create function intake_touch_updated_at() returns trigger language plpgsql as $$
      begin
        new.updated_at := now();
        return new;
      end $$`);
    this.addSql(`
      create trigger experiments_touch before update on experiments
      for each row execute function intake_touch_updated_at()`);
    this.addSql(`
      create trigger plans_touch before update on plans
      for each row execute function intake_touch_updated_at()`);
  }

  /**
   * `column` is text the API trimmed: no whitespace at either end. ASCII whitespace, named one by
   * one: a locale's class may count as space what JavaScript's `trim` keeps, which would turn a
   * value the API accepts into a failed check (a 500); JavaScript trims a superset of these.
   */
  private trimmed(column: string): string {
    const edge = '[^ \\t\\n\\v\\f\\r]';
    return `${column} ~ '^(${edge}|${edge}.*${edge})$'`;
  }

  override down(): void {
    this.addSql('drop table plans');
    this.addSql('drop table experiments');
    this.addSql('drop function intake_touch_updated_at()');
    this.addSql('drop function experiment_arms_valid(jsonb)');
  }
}
