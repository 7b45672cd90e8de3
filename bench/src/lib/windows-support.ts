// Helpers of bench:windows: storing requests (single windows and sequences) as intake does,
// reading what routing made of them, and small process/port/percentile utilities.
import type { ChildProcess } from 'node:child_process';
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

/**
 * Stores `records` as intake does: the rows and their `created` events in intake's outbox, in one
 * statement; `plans[i]` is the i-th request's `priority_tiers` (a sequence's), null without.
 */
async function storeCreated(
  pool: pg.Pool,
  records: SessionRequestRecord[],
  at: Date,
  plans?: unknown[],
): Promise<OutboxEntry[]> {
  const events = records.map((r) => requestEvent('created', toSessionRequest(r), { at }));
  await pool.query(
    `with sr as (
       insert into session_requests (id, customer_id, customer_name, session_type, plan_code, routing_type,
         preferred_mechanic_id, priority_window_minutes, priority_tiers, created_at, updated_at)
       select id, c, n, 'video', 'basic', rt, m, w, t, $6, $6
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::int[], $10::jsonb[], $11::text[])
         as x(id, c, n, m, w, t, rt))
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
      records.map((_, i) => (plans ? JSON.stringify(plans[i]) : null)),
      records.map((r) => r.routing_type),
    ],
  );
  return events;
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
    const events = await storeCreated(pool, records, at);
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

/** A sequence's tier as routing stored it (instants as epoch ms). */
export interface StoredTier {
  tier: number;
  mechanic: string;
  offered: number | null;
  expires: number | null;
  ended: number | null;
  outcome: string | null;
}

export interface SequenceRow {
  id: string;
  created: number;
  broadcast: number | null;
  reason: string | null;
  /** The mechanics planned for each tier, in rank order (`priority_tiers`). */
  planned: string[];
  tiers: StoredTier[];
}

/** Storing `priority_sequence` requests (CONTRACT §6) and reading back their tiers. */
export function sequenceStore(
  pool: pg.Pool,
  customers: Party[],
  mechanics: Party[],
  onCommitted: (entries: OutboxEntry[]) => void = () => {},
) {
  /**
   * Stores `count` sequences whose tiers last `tierMinutes` (rank order), each planned with
   * distinct mechanics, as intake's sequence booking stores them (the plan in `priority_tiers`,
   * the first tier's mechanic and window in the single-window columns), then publishes.
   */
  async function book(count: number, tierMinutes: number[], at = new Date(), customer?: Party): Promise<string[]> {
    const plans: { mechanic_id: string; window_minutes: number }[][] = [];
    const records: SessionRequestRecord[] = Array.from({ length: count }, () => {
      const c = customer ?? (customers[Math.floor(Math.random() * customers.length)] as Party);
      const first = Math.floor(Math.random() * mechanics.length);
      const plan = tierMinutes.map((w, k) => ({
        mechanic_id: (mechanics[(first + k) % mechanics.length] as Party).id,
        window_minutes: w,
      }));
      plans.push(plan);
      return newSessionRequestRecord({
        customer_id: c.id,
        customer_name: c.name,
        session_type: 'video',
        plan_code: 'basic',
        routing_type: 'priority_sequence',
        preferred_mechanic_id: plan[0]?.mechanic_id ?? null,
        priority_window_minutes: tierMinutes[0] ?? 1,
        created_at: at,
      });
    });
    const events = await storeCreated(pool, records, at, plans);
    onCommitted(events);
    return records.map((r) => r.id);
  }

  async function rows(ids: string[]): Promise<SequenceRow[]> {
    const out: SequenceRow[] = [];
    const ms = (x: unknown) => (x === null || x === undefined ? null : Number(x));
    for (let i = 0; i < ids.length; i += 10_000) {
      const { rows: r } = await pool.query(
        `select r.id, extract(epoch from r.created_at) * 1000 as created, extract(epoch from r.broadcast_at) * 1000 as broadcast,
           r.fallback_reason as reason, r.priority_tiers as plan,
           coalesce((select json_agg(json_build_object('tier', o.tier, 'mechanic', o.mechanic_id,
               'offered', extract(epoch from o.offered_at) * 1000, 'expires', extract(epoch from o.expires_at) * 1000,
               'ended', extract(epoch from o.ended_at) * 1000, 'outcome', o.outcome) order by o.tier)
             from session_request_offers o where o.request_id = r.id), '[]') as tiers
         from session_requests r where r.id = any($1::uuid[])`,
        [ids.slice(i, i + 10_000)],
      );
      for (const x of r) {
        out.push({
          id: x.id,
          created: Number(x.created),
          broadcast: ms(x.broadcast),
          reason: x.reason,
          planned: ((x.plan ?? []) as { mechanic_id: string }[]).map((t) => t.mechanic_id),
          tiers: (x.tiers as Record<string, unknown>[]).map((t) => ({
            tier: Number(t.tier),
            mechanic: String(t.mechanic),
            offered: ms(t.offered),
            expires: ms(t.expires),
            ended: ms(t.ended),
            outcome: (t.outcome as string | null) ?? null,
          })),
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

/** The inspector URL a child started with `--inspect=127.0.0.1:0` prints on its stderr. */
export function inspectorOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (c: Buffer) => {
      seen += c.toString();
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(seen)?.[1];
      if (!url) return;
      child.stderr?.off('data', onData);
      resolve(url);
    };
    child.stderr?.on('data', onData);
  });
}

/**
 * Diagnosis: settings for every connection opened to this database from now on (routing's too),
 * e.g. `plan_cache_mode=force_custom_plan`; `autoExplainMs` makes PostgreSQL log the plan, rows
 * and buffers of every statement slower than that (auto_explain, to the server's log).
 */
export async function databaseSettings(pool: pg.Pool, settings: string, autoExplainMs = 0): Promise<void> {
  const { rows } = await pool.query<{ d: string }>('select current_database() as d');
  const all = Object.fromEntries(
    settings
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  if (autoExplainMs > 0) {
    Object.assign(all, {
      session_preload_libraries: 'auto_explain',
      'auto_explain.log_min_duration': `${autoExplainMs}ms`,
      'auto_explain.log_analyze': 'on',
      'auto_explain.log_buffers': 'on',
      'auto_explain.log_timing': 'off',
      'auto_explain.log_nested_statements': 'on',
    });
  }
  for (const [k, v] of Object.entries(all)) {
    await pool.query(`alter database "${rows[0]?.d}" set ${k} = '${v}'`);
  }
}
