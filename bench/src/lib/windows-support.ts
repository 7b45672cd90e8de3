// Helpers of bench:windows: storing requests as intake does, reading what routing made of them,
// and small process/port/percentile utilities.
import net from 'node:net';
import {
  newSessionRequestRecord,
  type OutboxEntry,
  requestEvent,
  type SessionRequestRecord,
  toSessionRequest,
} from '@dibs/db';
import type pg from 'pg';
import { percentile } from '../stats.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Party {
  id: string;
  name: string;
}

export interface Fired {
  id: string;
  expires: number;
  broadcast: number | null;
  notified: number | null;
  reason: string | null;
}

/** Storing priority requests and reading back what routing made of them. */
export function requestStore(
  pool: pg.Pool,
  customers: Party[],
  mechanics: Party[],
  onCommitted: (entries: OutboxEntry[]) => void = () => {},
) {
  /** Stores `count` priority requests (row + created event, one statement, then the fast-path publish, as intake does). */
  async function book(count: number, windowMinutes: number, at = new Date()): Promise<string[]> {
    const records: SessionRequestRecord[] = Array.from({ length: count }, (_, i) => {
      const c = customers[(i + Math.floor(Math.random() * 1e6)) % customers.length] as { id: string; name: string };
      const m = mechanics[(i + Math.floor(Math.random() * 1e6)) % mechanics.length] as { id: string };
      return newSessionRequestRecord({
        customer_id: c.id,
        customer_name: c.name,
        session_type: 'video',
        plan_code: 'basic',
        routing_type: 'priority_broadcast',
        preferred_mechanic_id: m.id,
        priority_window_minutes: windowMinutes,
        created_at: at,
      });
    });
    const events = records.map((r) => requestEvent('created', toSessionRequest(r), { at }));
    await pool.query(
      `with sr as (
         insert into session_requests (id, customer_id, customer_name, session_type, plan_code, routing_type,
           preferred_mechanic_id, priority_window_minutes, created_at, updated_at)
         select id, c, n, 'video', 'basic', 'priority_broadcast', m, w, $6, $6
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::int[]) as x(id, c, n, m, w))
       insert into intake_outbox (id, subject, payload) select * from unnest($7::uuid[], $8::text[], $9::jsonb[])`,
      [
        records.map((r) => r.id),
        records.map((r) => r.customer_id),
        records.map((r) => r.customer_name),
        records.map((r) => r.preferred_mechanic_id),
        records.map((r) => r.priority_window_minutes),
        at,
        events.map((e) => e.id),
        events.map((e) => e.subject),
        events.map((e) => JSON.stringify(e.payload)),
      ],
    );
    onCommitted(events);
    return records.map((r) => r.id);
  }

  async function rows(ids: string[]): Promise<Fired[]> {
    const out: Fired[] = [];
    for (let i = 0; i < ids.length; i += 10_000) {
      const { rows: r } = await pool.query(
        `select id, extract(epoch from priority_expires_at) * 1000 as expires, extract(epoch from broadcast_at) * 1000 as broadcast,
           extract(epoch from priority_notified_at) * 1000 as notified, fallback_reason as reason
         from session_requests where id = any($1::uuid[])`,
        [ids.slice(i, i + 10_000)],
      );
      for (const x of r) {
        out.push({
          id: x.id,
          expires: Number(x.expires),
          broadcast: x.broadcast === null ? null : Number(x.broadcast),
          notified: x.notified === null ? null : Number(x.notified),
          reason: x.reason,
        });
      }
    }
    return out;
  }

  return { book, rows };
}

export async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function waitReady(url: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        return (await fetch(url)).status === 200;
      } catch {
        return false;
      }
    },
    30_000,
    'routing to be ready',
  );
}

/** p50/p99/max without spreading 100 000 values into Math.max. */
export function summarize(values: number[]): { n: number; p50: number; p99: number; max: number } {
  const finite = values.filter(Number.isFinite);
  return {
    n: finite.length,
    p50: percentile(finite, 50),
    p99: percentile(finite, 99),
    max: finite.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
