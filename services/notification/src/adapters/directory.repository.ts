import type { Role } from '@dibs/contracts';
import { type SessionRequestRecord, type Sql, sessionRequestColumns, toSessionRequest } from '@dibs/db';
import type { OfferKind } from '../domain/delivery.js';
import { BROADCAST_OFFER_SQL, PRIORITY_OFFER_SQL } from '../domain/rules/open-offer.js';
import type { OpenRequest } from '../domain/snapshot.js';

/** Who a handshake's token names: whether the row exists and, for mechanics, whether approved. */
export interface PrincipalRow {
  exists: boolean;
  approved: boolean;
}

/** The gateway's read-only view of PostgreSQL (it keeps no durable state of its own). */
export interface Directory {
  principal(role: Exclude<Role, 'admin'>, id: string): Promise<PrincipalRow>;
  /** Of `ids`, the mechanics that are approved now. */
  approvedAmong(ids: string[]): Promise<Set<string>>;
  /** Every pending request `mechanicId` may accept at `now` (see snapshot.ts), newest first. */
  openRequests(mechanicId: string, approved: boolean, now: number, limit: number): Promise<OpenRequest[]>;
  ping(): Promise<boolean>;
}

const cols = sessionRequestColumns('r');

// Own offers inside their window, then broadcast ones (approved mechanics only); never one this
// mechanic declined: the rule of domain/rules/open-offer.ts, one half per kind of offer, so that
// the partial indexes on pending/preferred requests keep both halves cheap.
const OPEN_REQUESTS_SQL = `
  select * from (
    select 'priority' as kind, ${cols} from session_requests r where ${PRIORITY_OFFER_SQL}
    union all
    select 'broadcast' as kind, ${cols} from session_requests r where ${BROADCAST_OFFER_SQL}
  ) open
  order by (kind = 'priority') desc, created_at desc, id
  limit $4`;

export function createDirectory(sql: Sql): Directory {
  return {
    async principal(role, id) {
      if (role === 'mechanic') {
        const { rows } = await sql.query<{ status: string }>('select status from mechanics where id = $1', [id]);
        return { exists: rows.length > 0, approved: rows[0]?.status === 'approved' };
      }
      const { rows } = await sql.query('select 1 from customers where id = $1', [id]);
      return { exists: rows.length > 0, approved: false };
    },
    async approvedAmong(ids) {
      const approved = new Set<string>();
      // Bounded batches: one array parameter per query, however many mechanics are connected.
      for (let i = 0; i < ids.length; i += 5000) {
        const { rows } = await sql.query<{ id: string }>(
          `select id from mechanics where id = any($1::uuid[]) and status = 'approved'`,
          [ids.slice(i, i + 5000)],
        );
        for (const row of rows) approved.add(row.id);
      }
      return approved;
    },
    async openRequests(mechanicId, approved, now, limit) {
      const { rows } = await sql.query<SessionRequestRecord & { kind: OfferKind }>(OPEN_REQUESTS_SQL, [
        mechanicId,
        new Date(now),
        approved,
        limit,
      ]);
      return rows.map((row): OpenRequest => ({ kind: row.kind, request: toSessionRequest(row) }));
    },
    async ping() {
      await sql.query('select 1');
      return true;
    },
  };
}
