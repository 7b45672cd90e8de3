import type { SessionRequest } from '@dibs/contracts';
import type { OfferKind } from '../delivery.js';

// What a mechanic's snapshot lists (CONTRACT §4): the offers the gateway delivered to this
// mechanic, live, that still stand. As a pure function, and as the SQL of the snapshot query
// (adapters/directory.repository.ts); test/open-offer-rule.test.ts checks on PostgreSQL that
// they agree.
//
// Why not routing's accept rule (routing src/domain/rules/accept.ts): this is a different rule on
// purpose. It is what was offered, not who may win: a mechanic whose approval was withdrawn keeps
// its own open priority offer in the snapshot, as it got it live (and routing refuses its accept),
// and a window that has ended but is not broadcast yet is no longer an offer to anyone, though
// routing would take an accept for it. Why not ask routing for the list: every mechanic's
// (re)connect, thousands at once after a gateway restart, would become a request to routing, and
// a routing outage would fail snapshots that PostgreSQL alone can serve. The gateway reads routing's
// rows to replay its own deliveries, and states here the two facts of them it relies on: a window
// is open until its stored deadline (a sequence's tier: its `session_request_offers` row, while it
// has no outcome), and a request is broadcast once `broadcast_at` is set. That
// read is §6 of docs/decisions/013-table-ownership.md; when routing publishes the open offers
// there, this module and its test move to routing with it.

/**
 * The kind of offer `request` still is to `mechanicId` at `now`, or null: its own priority window
 * (`openPriorityOffer`), until the deadline, whatever its approval; a broadcast, to approved
 * mechanics; never a request that is no longer pending or that this mechanic declined.
 */
export function openOfferKind(
  request: SessionRequest,
  mechanicId: string,
  approved: boolean,
  declinedByMechanic: boolean,
  now: number,
): OfferKind | null {
  if (request.status !== 'pending' || declinedByMechanic) return null;
  if (request.broadcast_at !== null) return approved ? 'broadcast' : null;
  return openPriorityOffer(request, mechanicId, now) === null ? null : 'priority';
}

/** Which tier a mechanic's open priority window is, and its deadline. */
export interface OpenWindow {
  tier: number;
  expires_at: string;
}

/**
 * The priority window of `request` that is `mechanicId`'s and still open at `now`, before the
 * request's status, broadcast and declines are considered. A sequence's windows are its stored
 * tiers (`offers`): the one offered to this mechanic and not ended (outcome null) until its own
 * deadline, so a rank-1 mechanic whose tier has ended has none, though it stays the request's
 * `preferred_mechanic_id`. Any other request has at most the one window of its own columns
 * (tier 1).
 */
export function openPriorityOffer(request: SessionRequest, mechanicId: string, now: number): OpenWindow | null {
  if (request.routing_type === 'priority_sequence') {
    for (const o of request.offers) {
      if (o.mechanic_id !== mechanicId || o.outcome !== null || o.offered_at === null) continue;
      if (o.expires_at !== null && Date.parse(o.expires_at) > now) return { tier: o.tier, expires_at: o.expires_at };
    }
    return null;
  }
  const expires = request.priority_expires_at;
  const open =
    request.preferred_mechanic_id === mechanicId &&
    request.priority_notified_at !== null &&
    expires !== null &&
    Date.parse(expires) > now;
  return open ? { tier: 1, expires_at: expires } : null;
}

const NOT_DECLINED = `not exists (select 1 from session_request_declines d where d.request_id = r.id and d.mechanic_id = $1)`;

/**
 * `openOfferKind(r, $1, $3, …, $2) = 'priority'` as SQL over the row `r` of a request with one
 * window (its own columns).
 */
export const PRIORITY_OFFER_SQL = `r.preferred_mechanic_id = $1 and r.routing_type <> 'priority_sequence'
  and r.status = 'pending' and r.priority_notified_at is not null and r.broadcast_at is null
  and r.priority_expires_at > $2 and ${NOT_DECLINED}`;

/**
 * The same for a sequence `r`, over its tier `o` (a row of `session_request_offers` joined on
 * `o.request_id = r.id`): the tier offered to $1 and not ended, before its deadline. Keyed on
 * `o.mechanic_id`, so that the offers' index on (mechanic_id, offered_at) finds it.
 */
export const SEQUENCE_OFFER_SQL = `o.mechanic_id = $1 and o.offered_at is not null and o.outcome is null
  and o.expires_at > $2 and r.routing_type = 'priority_sequence' and r.status = 'pending'
  and r.broadcast_at is null and ${NOT_DECLINED}`;

/** `openOfferKind(r, $1, $3, …, $2) = 'broadcast'` as SQL over the row `r`. */
export const BROADCAST_OFFER_SQL = `$3::boolean and r.status = 'pending' and r.broadcast_at is not null and ${NOT_DECLINED}`;
