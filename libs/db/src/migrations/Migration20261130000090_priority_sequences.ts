import { Migration } from '@mikro-orm/migrations';

/**
 * Ranked favorites offered in sequence (issue 12, CONTRACT §6), routing's:
 * - `session_requests.priority_tiers`: the plan a sequence was booked with, fixed at creation
 *   (`[{mechanic_id, window_minutes}]` in rank order; intake writes it with the row, like every
 *   other field of a new request). Null for every other request.
 * - `session_request_offers`: one row per tier reached, written by routing as it offers or skips
 *   the tier and as the tier ends. `expires_at` is the tier's stored deadline, which decides it.
 *   Indexes: open tiers by deadline (the sweeper's), offers by mechanic (a mechanic's open offers
 *   and history).
 * - the checks admit `priority_sequence` and `priority_unavailable`.
 * The seed's three columns and three indexes are untouched.
 */
export class Migration20261130000090PrioritySequences extends Migration {
  override name = 'Migration20261130000090_priority_sequences';

  override up(): void {
    this.addSql(`alter table session_requests
      add column priority_tiers jsonb check (priority_tiers is null or jsonb_typeof(priority_tiers) = 'array'),
      drop constraint session_requests_routing_type_check,
      add constraint session_requests_routing_type_check
        check (routing_type in ('broadcast', 'priority_broadcast', 'priority_sequence')),
      drop constraint session_requests_fallback_reason_check,
      add constraint session_requests_fallback_reason_check
        check (fallback_reason in ('priority_timeout', 'priority_declined', 'priority_failed', 'flag_disabled',
                                   'priority_unavailable'))`);
    this.addSql(`
      create table session_request_offers (
        request_id uuid not null references session_requests (id) on delete cascade,
        tier smallint not null check (tier between 1 and 3),
        mechanic_id uuid not null,
        window_minutes integer not null check (window_minutes between 1 and 120),
        offered_at timestamptz,
        expires_at timestamptz,
        outcome text check (outcome in ('accepted', 'declined', 'timeout', 'skipped_unavailable',
                                        'skipped_not_approved', 'withdrawn')),
        ended_at timestamptz,
        primary key (request_id, tier),
        check ((offered_at is null) = (expires_at is null)),
        check (offered_at is not null or outcome is not null),
        check ((outcome is null) = (ended_at is null))
      )`);
    this.addSql(`create index session_request_offers_open_idx on session_request_offers (expires_at)
      where outcome is null`);
    this.addSql(`create index session_request_offers_mechanic_idx on session_request_offers (mechanic_id, offered_at)`);
  }

  override down(): void {
    this.addSql('drop table session_request_offers');
    this.addSql(`alter table session_requests drop column priority_tiers,
      drop constraint session_requests_routing_type_check,
      add constraint session_requests_routing_type_check check (routing_type in ('broadcast', 'priority_broadcast')),
      drop constraint session_requests_fallback_reason_check,
      add constraint session_requests_fallback_reason_check
        check (fallback_reason in ('priority_timeout', 'priority_declined', 'priority_failed', 'flag_disabled'))`);
  }
}
