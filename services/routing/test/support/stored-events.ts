import { type EventKind, natsNames, type RequestEvent, type SessionRequest } from '@dibs/contracts';
import { eventually } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { expect } from 'vitest';
import { createRequest, getRequest, ms, type World } from './fixture.js';

// What NATS outages must not change: every priority window fires once, on time, and each event
// about it reaches the EVENTS stream exactly once. Shared by the tests that take NATS away.

/** The contract: a window is broadcast no later than its deadline + 1 s (ARCHITECTURE.md, invariants). */
export const DB_LATENESS_MS = 1000;

/**
 * How long after NATS can store again (a server back, a new stream leader) an event that routing
 * could not publish meanwhile may take to reach the stream, as libs/db's outbox relay works: its
 * try in flight at that moment may go unanswered (a publish times out after 5 s), and its next try
 * waits out a backoff of at most 5 s; 1 s more for a busy machine.
 */
export const RELAY_BOUND_MS = 11_000;

/** An event as the EVENTS stream holds it. */
export interface StoredEvent {
  event: RequestEvent;
  /** When the stream stored it (epoch ms). */
  storedAt: number;
}

/** Waits until request `id` is offered (its window open) or broadcast, and returns its row. */
export function untilRequest(
  world: World,
  id: string,
  what: 'offered' | 'broadcast',
  timeoutMs = 30_000,
): Promise<SessionRequest> {
  return eventually(
    async () => {
      const r = await getRequest(world.db, id);
      return (what === 'offered' ? r.priority_notified_at : r.broadcast_at) !== null && r;
    },
    timeoutMs,
    `${what} ${id}`,
  );
}

/** Books one priority request per window length (in window minutes) and waits until each window is open. */
export async function openWindows(
  world: World,
  people: { customer: string; favorite: string },
  lengths: number[],
): Promise<SessionRequest[]> {
  const requests = await Promise.all(
    lengths.map((windowMinutes) =>
      createRequest(world.db, { customerId: people.customer, preferredMechanicId: people.favorite, windowMinutes }),
    ),
  );
  return Promise.all(requests.map((r) => untilRequest(world, r.id, 'offered')));
}

/** Every event in the world's EVENTS stream, oldest first. */
async function storedEvents(world: World): Promise<StoredEvent[]> {
  const stream = natsNames(world.prefix).streams.events;
  const jsm = await jetstreamManager(world.nc, { timeout: 2000 });
  if ((await jsm.streams.info(stream)).state.messages === 0) return [];
  const messages = await (await jetstream(world.nc, { timeout: 2000 }).consumers.get(stream)).consume();
  const out: StoredEvent[] = [];
  for await (const m of messages) {
    out.push({ event: m.json<RequestEvent>(), storedAt: Math.floor(m.info.timestampNanos / 1e6) });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/**
 * Waits until routing, and intake's relay standing in for intake, published everything written
 * about `ids` (no row of theirs is left in either outbox, so nothing more can reach the stream),
 * checks that no event was stored twice, and returns each request's stored events.
 */
export async function settledEvents(world: World, ids: string[]): Promise<Map<string, StoredEvent[]>> {
  await eventually(
    async () => {
      const { rows } = await world.db.query(
        `select (select count(*) from intake_outbox where payload->'request'->>'id' = any($1))::int
              + (select count(*) from outbox where payload->'request'->>'id' = any($1))::int as n`,
        [ids],
      );
      return rows[0].n === 0;
    },
    30_000,
    'every outbox row to be published',
  );
  // Reading needs a consumer of its own, which JetStream may not place while it recovers from a
  // lost node: retried.
  const all = await eventually(() => storedEvents(world), 20_000, 'the EVENTS stream to be readable');
  const eventIds = all.map((s) => s.event.id);
  expect(new Set(eventIds).size, 'events stored twice').toBe(eventIds.length);
  return new Map(ids.map((id) => [id, all.filter((s) => s.event.request.id === id)]));
}

export function kinds(events: StoredEvent[] | undefined): EventKind[] {
  return (events ?? []).map((s) => s.event.kind);
}

/**
 * Every window fired once: in PostgreSQL at its deadline (+ the contract's 1 s), and in the stream
 * as exactly one broadcast carrying that same broadcast_at, stored no earlier than the deadline and
 * within RELAY_BOUND_MS of the later of the deadline and `backAt` (when NATS could store again; 0
 * if it never stopped). Returns the lateness of each, in PostgreSQL and in the stream.
 */
export async function expectFiredOnce(
  world: World,
  windows: SessionRequest[],
  events: Map<string, StoredEvent[]>,
  backAt: number,
): Promise<{ db: number[]; stream: number[] }> {
  const lateness = { db: [] as number[], stream: [] as number[] };
  for (const w of windows) {
    const row = await getRequest(world.db, w.id);
    const deadline = ms(row.priority_expires_at);
    expect(row.fallback_reason).toBe('priority_timeout');
    expect(ms(row.broadcast_at) - deadline).toBeGreaterThanOrEqual(0);
    expect(ms(row.broadcast_at) - deadline).toBeLessThanOrEqual(DB_LATENESS_MS);
    const stored = events.get(w.id);
    expect(kinds(stored)).toEqual(['created', 'priority_notified', 'broadcast']);
    const broadcast = stored![2]!;
    expect(broadcast.event.request.broadcast_at).toBe(row.broadcast_at);
    expect(broadcast.storedAt).toBeGreaterThanOrEqual(deadline);
    expect(broadcast.storedAt).toBeLessThanOrEqual(Math.max(deadline, backAt) + RELAY_BOUND_MS);
    lateness.db.push(ms(row.broadcast_at) - deadline);
    lateness.stream.push(broadcast.storedAt - deadline);
  }
  return lateness;
}
