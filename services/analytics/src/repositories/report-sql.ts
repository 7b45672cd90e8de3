// The SQL pieces every report shares. Each definition is spelled out, with examples, in
// services/analytics/README.md.

// `$1`/`$2`: the optional half-open range on the request's created_at.
export const RANGE = `($1::timestamptz is null or f.created_at >= $1::timestamptz)
  and ($2::timestamptz is null or f.created_at < $2::timestamptz)`;

// A priority request: routing reached the customer's favorites and offered the request to one
// of them (priority_notified_at is the first offer) or skipped every one as unavailable. For a
// single preferred mechanic, the seed's definition (a window that really happened) plus
// priority_unavailable, which did not exist before; a sequence needs no preferred_mechanic_id.
export const PRIORITY_REQUEST = `(f.priority_notified_at is not null or f.fallback_reason = 'priority_unavailable')
  and (f.preferred_mechanic_id is not null or f.routing_type = 'priority_sequence')`;
export const PRIORITY = `${PRIORITY_REQUEST} and ${RANGE}`;

// A priority request that went to everyone after its favorites: the window (or last tier) timed
// out or was declined, or every favorite was skipped as unavailable.
export const FELL_BACK = `f.broadcast_at is not null
  and f.fallback_reason in ('priority_timeout', 'priority_declined', 'priority_unavailable')`;

// One row per priority offer: a single request's window for its preferred mechanic, accepted
// when that mechanic accepted it, also after the fallback (the seed's rule, read from the
// request's columns as the seed does); and each tier of a sequence offered to a mechanic (skipped
// tiers were never offered), accepted when that tier's outcome is accepted, i.e. inside it.
// `offered_at` → `accepted_at` is the response time of an accepted one. `ended`: the window is
// over (single: the request was broadcast, accepted or cancelled; a tier: it has an outcome).
// `seen_at`: the mechanic's first seen ack of this priority offer, if any (acks of a broadcast
// frame do not count); a mechanic holds at most one tier of a request, so (request, mechanic)
// names the offer.
export const PRIORITY_OFFERS = `
  select p.*, s.seen_at
  from (
    select f.request_id, f.preferred_mechanic_id as mechanic_id, f.priority_notified_at as offered_at, f.accepted_at,
           coalesce(f.status = 'accepted' and f.mechanic_id = f.preferred_mechanic_id, false) as accepted,
           (f.broadcast_at is not null or f.status <> 'pending') as ended
    from analytics_request_facts f
    where f.routing_type <> 'priority_sequence' and f.preferred_mechanic_id is not null
      and f.priority_notified_at is not null and ${RANGE}
    union all
    select o.request_id, o.mechanic_id, o.offered_at, f.accepted_at, coalesce(o.outcome = 'accepted', false) as accepted,
           o.outcome is not null as ended
    from analytics_offer_facts o
    join analytics_request_facts f on f.request_id = o.request_id
    where f.routing_type = 'priority_sequence' and o.offered_at is not null and ${RANGE}
  ) p
  left join analytics_seen_facts s
    on s.request_id = p.request_id and s.mechanic_id = p.mechanic_id and s.offer = 'priority'`;

export const RESPONSE_SECONDS = `extract(epoch from (p.accepted_at - p.offered_at))`;

// Offer → first seen, never below 0: the gateway's clock and routing's may differ by a few ms.
// (`greatest` ignores nulls, hence the filter: an offer never seen must not count as 0 s.)
const SEEN_SECONDS = `greatest(extract(epoch from (p.seen_at - p.offered_at)), 0)`;

/** `avg_seen_seconds` and `offers_never_seen` over the priority offers `p` of a group. */
export const SEEN_COLUMNS = `(avg(${SEEN_SECONDS}) filter (where p.seen_at is not null))::float8 as avg_seen_seconds,
       count(*) filter (where p.ended and p.seen_at is null)::int as offers_never_seen`;

/** The seed's `ROUND(100.0 * part / total, 2)`, as 0 instead of an error when there is no data. */
export const pct = (part: string, total: string) =>
  `coalesce(round(100.0 * ${part} / nullif(${total}, 0), 2), 0)::float8`;

/** `ROUND(100.0 * part / total, 2)`, null when there is no data (the experiment's arms). */
export const pctOrNull = (part: string, total: string) => `round(100.0 * ${part} / nullif(${total}, 0), 2)::float8`;
