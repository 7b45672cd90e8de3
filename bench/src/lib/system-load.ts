// The load of bench:system, run as its own process (forked with an IPC channel) so that its CPU
// is not counted as any service's: customers booking at a constant rate over HTTP, mechanics
// connected over WebSockets timing the offers they receive, for dibs and for the bare baseline.
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import { summarize } from '../stats.js';

export interface LoadInit {
  /** NATS and the deployment's prefix: where the load watches `created` and the offer go by. */
  natsUrl: string;
  prefix: string;
  intakeUrls: string[];
  gatewayUrl: string;
  /** The bare baseline server: `POST <bareHttpUrl>/bare`, sockets at `<bareWsUrl>?m=<mechanic id>`. */
  bareHttpUrl: string;
  bareWsUrl: string;
  mechanics: { id: string; token: string }[];
  customers: { id: string; token: string }[];
}

export interface LoadStep {
  tag: string;
  side: 'bare' | 'system';
  rate: number;
  seconds: number;
  /** `one`: every booking by the same customer (a hot spot on its rows and index entries). */
  customers: 'many' | 'one';
  /** How long to wait for offers after the last booking was answered. */
  drainMs: number;
}

export interface LoadResult {
  sent: number;
  /** HTTP status → count; 0 for a request that failed without a response. */
  statuses: Record<string, number>;
  /** Bookings answered 201 that never produced an offer on the mechanic's socket. */
  lost: number;
  /** Offers received for bookings that were not answered 201 (a shed booking that was created anyway). */
  unexpected: number;
  /** The same offer (or the same frame id) received twice on one socket. */
  duplicates: number;
  /** When the last booking was sent, relative to the step's start, ms (shows a load generator falling behind). */
  sendLagMs: number;
  /** From each booking's scheduled send time: its HTTP answer (201 only), and its offer on the socket. */
  http: ReturnType<typeof summarize>;
  offer: ReturnType<typeof summarize>;
  /**
   * Where the time goes, per booking (dibs only): POST → `request.created` on NATS (intake),
   * `created` → `priority_notified` (which carries the offer) on NATS (routing), that → socket (gateway).
   */
  stages: {
    intake: ReturnType<typeof summarize>;
    routing: ReturnType<typeof summarize>;
    gateway: ReturnType<typeof summarize>;
  };
}

const TEXT_MARK = Buffer.from('"priority_session_request"');

let init: LoadInit;
const pools: Pool[] = [];
let bare: Pool;
// plan_code → when its offer arrived; plan codes are unique per booking.
const offers = new Map<string, number>();
let duplicates = 0;
const sockets: WebSocket[] = [];
// plan_code → when its `created` event and its offer notification went by on NATS.
const createdSeen = new Map<string, number>();
const offerSeen = new Map<string, number>();
let nc: NatsConnection | undefined;

function planOf(data: Uint8Array): string | undefined {
  const text = Buffer.from(data).toString();
  return /"plan_code":"([^"]+)"/.exec(text)?.[1];
}

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const seenIds = new Set<string>();
    ws.on('message', (data: Buffer) => {
      if (!data.includes(TEXT_MARK)) return;
      const at = performance.now();
      // Read without parsing the whole frame: the load process must stay cheap next to the system.
      const text = data.toString();
      if (!text.includes('"type":"priority_session_request"')) return;
      const id = /"id":"([^"]+)"/.exec(text)?.[1];
      const plan = /"plan_code":"([^"]+)"/.exec(text)?.[1];
      if (id && seenIds.has(id)) duplicates++;
      if (id) seenIds.add(id);
      if (!plan) return;
      if (offers.has(plan)) duplicates++;
      else offers.set(plan, at);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
  });
}

async function setup(msg: LoadInit): Promise<void> {
  init = msg;
  nc = await connect({ servers: msg.natsUrl.split(',') });
  const watch = (subject: string, into: Map<string, number>) =>
    nc?.subscribe(subject, {
      callback: (_err, m) => {
        const at = performance.now();
        const plan = planOf(m.data);
        if (plan && !into.has(plan)) into.set(plan, at);
      },
    });
  watch(`${msg.prefix}.events.request.created`, createdSeen);
  watch(`${msg.prefix}.events.request.priority_notified`, offerSeen);
  for (const url of msg.intakeUrls) pools.push(new Pool(url, { connections: 256 }));
  bare = new Pool(msg.bareHttpUrl, { connections: 256 });
  for (const m of msg.mechanics) {
    sockets.push(await open(msg.gatewayUrl, { authorization: `Bearer ${m.token}` }));
    sockets.push(await open(`${msg.bareWsUrl}?m=${m.id}`, {}));
  }
}

async function step(s: LoadStep): Promise<LoadResult> {
  offers.clear();
  createdSeen.clear();
  offerSeen.clear();
  duplicates = 0;
  const total = Math.round(s.rate * s.seconds);
  const scheduled = new Map<string, number>();
  const statuses: Record<string, number> = {};
  const httpMs: number[] = [];
  const created = new Set<string>();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const slow: number[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / s.rate;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    const plan = `${s.tag}-${i}`;
    const mechanic = init.mechanics[i % init.mechanics.length] as { id: string };
    const customer = init.customers[s.customers === 'one' ? 0 : i % init.customers.length] as {
      id: string;
      token: string;
    };
    scheduled.set(plan, due);
    const req =
      s.side === 'bare'
        ? bare.request({
            method: 'POST',
            path: '/bare',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ mechanic_id: mechanic.id, plan_code: plan, customer_id: customer.id }),
          })
        : (pools[i % pools.length] as Pool).request({
            method: 'POST',
            path: '/v1/session-requests',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${customer.token}`,
              'idempotency-key': plan,
            },
            body: JSON.stringify({
              session_type: 'video',
              plan_code: plan,
              preferred_mechanic_id: mechanic.id,
              routing_type: 'priority_broadcast',
            }),
          });
    pending.push(
      req.then(
        async (res) => {
          await res.body.dump();
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode === 201) {
            const ms = performance.now() - due;
            httpMs.push(ms);
            created.add(plan);
            // Diagnostic (BENCH_VERBOSE): when the slow answers were sent, to tell a stall from queueing.
            if (process.env.BENCH_VERBOSE && ms > 30) slow.push(Math.round(due - start));
          }
        },
        () => {
          statuses[0] = (statuses[0] ?? 0) + 1;
        },
      ),
    );
  }
  const sendLagMs = performance.now() - start - ((total - 1) * 1000) / s.rate;
  await Promise.all(pending);
  const deadline = performance.now() + s.drainMs;
  while (performance.now() < deadline && [...created].some((p) => !offers.has(p))) await sleep(20);
  const offerMs: number[] = [];
  const stage = { intake: [] as number[], routing: [] as number[], gateway: [] as number[] };
  let lost = 0;
  for (const plan of created) {
    const at = offers.get(plan);
    if (at === undefined) lost++;
    else offerMs.push(at - (scheduled.get(plan) as number));
    const c = createdSeen.get(plan);
    const o = offerSeen.get(plan);
    if (c !== undefined) stage.intake.push(c - (scheduled.get(plan) as number));
    if (c !== undefined && o !== undefined) stage.routing.push(o - c);
    if (o !== undefined && at !== undefined) stage.gateway.push(at - o);
  }
  if (slow.length) {
    const buckets = new Map<number, number>();
    for (const t of slow) buckets.set(Math.floor(t / 100) * 100, (buckets.get(Math.floor(t / 100) * 100) ?? 0) + 1);
    console.log(
      `  slow answers (> 30 ms) by send time (ms into the step): ${[...buckets].map(([t, n]) => `${t}:${n}`).join(' ')}`,
    );
  }
  let unexpected = 0;
  for (const plan of offers.keys()) if (!created.has(plan)) unexpected++;
  return {
    sent: total,
    statuses,
    lost,
    unexpected,
    duplicates,
    sendLagMs,
    http: summarize(httpMs),
    offer: summarize(offerMs),
    stages: { intake: summarize(stage.intake), routing: summarize(stage.routing), gateway: summarize(stage.gateway) },
  };
}

process.on('message', (m: { cmd: 'init'; init: LoadInit } | { cmd: 'step'; step: LoadStep } | { cmd: 'stop' }) => {
  const reply = (p: Promise<unknown>) =>
    p.then(
      (result) => process.send?.({ ok: true, result }),
      (err: Error) => process.send?.({ ok: false, error: err.stack ?? err.message }),
    );
  if (m.cmd === 'init') void reply(setup(m.init));
  else if (m.cmd === 'step') void reply(step(m.step));
  else {
    for (const ws of sockets) ws.terminate();
    void Promise.all([...pools, bare].map((p) => p?.close()))
      .then(() => nc?.close())
      .then(() => process.exit(0));
  }
});
