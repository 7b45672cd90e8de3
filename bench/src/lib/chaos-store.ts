// What a chaos run left behind, read from PostgreSQL and the EVENTS stream for the checks
// (chaos-checks.ts), and whether anything is still in flight.
import { type EventKind, natsNames } from '@dibs/contracts';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { Row, StoredEvent, Tier } from './chaos-checks.js';

type TierJson = Omit<Tier, 'offered_at' | 'expires_at' | 'ended_at'> & {
  offered_at: string | null;
  expires_at: string | null;
  ended_at: string | null;
};

const date = (v: string | null) => (v === null ? null : new Date(v));

/** Every request with its sequence's plan and the tiers it reached (`session_request_offers`). */
export async function readRows(sql: pg.Pool): Promise<Row[]> {
  const { rows } = await sql.query<Omit<Row, 'plan' | 'tiers'> & { plan: string[] | null; tiers: TierJson[] }>(
    `select r.id, r.status, r.routing_type, r.preferred_mechanic_id, r.priority_notified_at, r.priority_expires_at,
            r.broadcast_at, r.fallback_reason, r.mechanic_id, r.accepted_at, r.cancelled_at,
            (select array_agg(t->>'mechanic_id' order by n) from jsonb_array_elements(r.priority_tiers)
               with ordinality as p(t, n)) as plan,
            coalesce((select json_agg(json_build_object('tier', o.tier, 'mechanic_id', o.mechanic_id,
                        'offered_at', o.offered_at, 'expires_at', o.expires_at, 'outcome', o.outcome,
                        'ended_at', o.ended_at) order by o.tier)
                      from session_request_offers o where o.request_id = r.id), '[]') as tiers
     from session_requests r`,
  );
  return rows.map((r) => ({
    ...r,
    tiers: r.tiers.map((t) => ({
      ...t,
      offered_at: date(t.offered_at),
      expires_at: date(t.expires_at),
      ended_at: date(t.ended_at),
    })),
  }));
}

/** Every message of the EVENTS stream, read with an ordered consumer (the stream is small). */
export async function readEvents(
  nc: NatsConnection,
  prefix: string,
): Promise<{ events: StoredEvent[]; messages: number }> {
  const names = natsNames(prefix);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.streams.events);
  const events: StoredEvent[] = [];
  if (info.state.messages === 0) return { events, messages: 0 };
  const consumer = await jetstream(nc).consumers.get(names.streams.events, {
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const e = m.json<{
      id: string;
      kind: EventKind;
      request: { id: string };
      occurred_at: string;
      actor_mechanic_id?: string | null;
      notify?: { type: string; tier?: number; mechanic_id?: string | null }[];
    }>();
    // The tier a `priority_notified` event opened is the one its priority offer names.
    const offer = e.notify?.find((n) => n.type === 'priority_session_request');
    events.push({
      id: e.id,
      kind: e.kind,
      requestId: e.request.id,
      actor: e.actor_mechanic_id ?? null,
      tier: e.kind === 'priority_notified' ? (offer?.tier ?? 1) : null,
      at: e.occurred_at,
      notify: (e.notify ?? []).map((n) => (n.mechanic_id ? `${n.type}→${n.mechanic_id}` : n.type)),
    });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return { events, messages: events.length };
}

/**
 * Whether nothing is left in flight: both outboxes published, both durable consumers caught up, no
 * window and no sequence's tier open.
 */
export async function settled(sql: pg.Pool, nc: NatsConnection, prefix: string): Promise<string | undefined> {
  const names = natsNames(prefix);
  const jsm = await jetstreamManager(nc);
  const { rows } = await sql.query<{ outbox: number; open: number; tiers: number }>(
    `select (select count(*) from intake_outbox)::int + (select count(*) from outbox)::int as outbox,
            (select count(*) from session_requests
             where status = 'pending' and broadcast_at is null and priority_expires_at is not null)::int as open,
            (select count(*) from session_request_offers where outcome is null)::int as tiers`,
  );
  const { outbox, open, tiers } = rows[0] as { outbox: number; open: number; tiers: number };
  if (outbox > 0) return `${outbox} outbox rows unpublished`;
  if (open > 0) return `${open} priority windows open`;
  if (tiers > 0) return `${tiers} sequence tiers open`;
  for (const consumer of [names.consumers.routingCreated, names.consumers.analytics]) {
    const c = await jsm.consumers.info(names.streams.events, consumer);
    if (c.num_pending + c.num_ack_pending > 0)
      return `${consumer}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged`;
  }
  return undefined;
}
