import type { Role } from '@dibs/contracts';
import { iso, type SessionRequestRecord, type Sql, sessionRequestColumns, toSessionRequest } from '@dibs/db';
import type { OfferKind } from '../domain/delivery.js';
import { BROADCAST_OFFER_SQL, PRIORITY_OFFER_SQL, SEQUENCE_OFFER_SQL } from '../domain/rules/open-offer.js';
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

// Own offers inside their window (a request's one window, or a sequence's tier offered to this
// mechanic), then broadcast ones (approved mechanics only); never one this mechanic declined: the
// rule of domain/rules/open-offer.ts, one branch per kind of window and offer, so that each
// branch keeps to its index (preferred mechanic, the offers by mechanic, pending requests). A
// priority row carries its window's tier, length and deadline.
const OPEN_REQUESTS_SQL = `
  select * from (
    select 'priority' as kind, 1 as offer_tier, r.priority_window_minutes as offer_window_minutes,
        r.priority_expires_at as offer_expires_at, ${cols}
      from session_requests r where ${PRIORITY_OFFER_SQL}
    union all
    select 'priority' as kind, o.tier, o.window_minutes, o.expires_at, ${cols}
      from session_request_offers o join session_requests r on r.id = o.request_id where ${SEQUENCE_OFFER_SQL}
    union all
    select 'broadcast' as kind, null, null, null, ${cols} from session_requests r where ${BROADCAST_OFFER_SQL}
  ) open
  order by (kind = 'priority') desc, created_at desc, id
  limit $4`;

type OpenRequestRow = SessionRequestRecord & {
  kind: OfferKind;
  offer_tier: number | null;
  offer_window_minutes: number | null;
  offer_expires_at: Date | string | null;
};

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
      const { rows } = await sql.query<OpenRequestRow>(OPEN_REQUESTS_SQL, [mechanicId, new Date(now), approved, limit]);
      return rows.map(toOpenRequest);
    },
    async ping() {
      await sql.query('select 1');
      return true;
    },
  };
}

function toOpenRequest(row: OpenRequestRow): OpenRequest {
  const request = toSessionRequest(row);
  if (row.kind === 'broadcast') return { kind: 'broadcast', request };
  return {
    kind: 'priority',
    request,
    tier: Number(row.offer_tier),
    windowMinutes: Number(row.offer_window_minutes),
    expiresAt: iso(row.offer_expires_at) as string,
  };
}
