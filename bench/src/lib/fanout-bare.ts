// The baseline of bench:fanout, run as its own process (forked with an IPC channel): a bare `ws`
// server with none of the gateway's work (no auth, no snapshot, no dedupe, no presence), doing
// the same sends. Broadcast: a core NATS message → the same bytes to every socket in one loop.
// End to end: POST /bare → the same INSERT → JetStream publish → NATS hop → ws send.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { WebSocket, WebSocketServer } from 'ws';

const prefix = process.env.BENCH_PREFIX as string;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const nc = await connect({ servers: (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',') });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: `${prefix}_BARE`, subjects: [`${prefix}.bare.>`], max_age: 3600 * 1e9 });

const byMechanic = new Map<string, WebSocket>();
const TEXT = { binary: false } as const;
// Longest event-loop stall since the last reset: a 5 ms interval that notices how late it fires
// (bench:fanout's measure; bench:system turns it off, as it costs CPU the baseline must not pay).
let maxLagMs = 0;
let lastTick = performance.now();
if (process.env.BARE_LAG_SAMPLER !== '0') {
  setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - lastTick - 5);
    lastTick = now;
  }, 5);
}
// The broadcast loop's own duration: one synchronous stretch over every socket.
let longestLoopMs = 0;

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/bare') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    void insertAndPublish(JSON.parse(body) as { mechanic_id: string; plan_code: string; customer_id: string }).then(
      (row) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(row)),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
});
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const id = new URL(req.url ?? '/', 'http://x').searchParams.get('m');
  if (id) {
    byMechanic.set(id, ws);
    ws.on('close', () => byMechanic.delete(id));
  }
});

nc.subscribe(`${prefix}.barefan`, {
  callback: (_err, msg) => {
    const data = Buffer.from(msg.data);
    const start = performance.now();
    for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data, TEXT);
    longestLoopMs = Math.max(longestLoopMs, performance.now() - start);
  },
});
nc.subscribe(`${prefix}.bare.*`, {
  callback: (_err, msg) => {
    const ws = byMechanic.get(msg.subject.slice(prefix.length + 6));
    if (ws?.readyState === WebSocket.OPEN) ws.send(Buffer.from(msg.data), TEXT);
  },
});

async function insertAndPublish(b: { mechanic_id: string; plan_code: string; customer_id: string }) {
  // Prepared once per connection, as dibs' own hot statements are.
  const { rows } = await pool.query({
    name: 'bare-insert',
    text: `insert into session_requests (id, customer_id, customer_name, session_type, plan_code, routing_type,
       preferred_mechanic_id, priority_notified_at, priority_expires_at)
     values ($1, $2, 'Bench Customer', 'video', $3, 'priority_broadcast', $4, now(), now() + interval '10 minutes')
     returning *`,
    values: [randomUUID(), b.customer_id, b.plan_code, b.mechanic_id],
  });
  const request = rows[0];
  const id = randomUUID();
  const frame = {
    id,
    type: 'priority_session_request',
    at: new Date().toISOString(),
    request,
    target_mechanic_id: b.mechanic_id,
    priority_window_minutes: 10,
    expires_at: request.priority_expires_at,
    message: 'Bench Customer specifically requested you! You have 10 minutes priority access.',
  };
  await js.publish(`${prefix}.bare.${b.mechanic_id}`, JSON.stringify(frame), { msgID: id });
  return request;
}

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'lag-reset') {
    maxLagMs = 0;
    longestLoopMs = 0;
    process.send?.({ ok: true });
  } else if (m.cmd === 'lag') {
    process.send?.({ maxLagMs, longestLoopMs });
  } else if (m.cmd === 'stop') {
    for (const ws of wss.clients) ws.terminate();
    server.close();
    void Promise.all([nc.close(), pool.end()]).then(() => process.exit(0));
  }
});
