import { Migration } from '@mikro-orm/migrations';

/**
 * Routing's sweeper looks for priority windows whose deadline has passed and that were never
 * broadcast. The seed's `session_requests_priority_timeout_idx` also holds every request that was
 * broadcast and is still waiting for a mechanic, a set that only grows; this partial index holds
 * exactly the open windows, ordered by deadline, so a sweep reads only what is due.
 */
export class Migration20261123000030RoutingOpenWindows extends Migration {
  override name = 'Migration20261123000030_routing_open_windows';

  override up(): void {
    this.addSql(`
      create index session_requests_open_windows_idx
      on session_requests (priority_expires_at)
      where status = 'pending' and broadcast_at is null and priority_expires_at is not null`);
  }
}
