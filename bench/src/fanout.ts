// pnpm bench:fanout — the notification gateway against a bare `ws` server doing the same sends,
// in one run: (1) one broadcast to N connected mechanics, time until the last socket has it;
// (2) memory per connection; (3) end to end, POST /v1/session-requests → the preferred
// mechanic's socket has the offer, at a constant rate, against the same insert + JetStream
// publish + NATS hop + ws send; (4) slow readers: mechanics that stop reading during a burst of
// broadcasts are closed with 1013 while the others get every frame, and the gateway's memory
// returns to its level before the burst. Every server runs as its own process (the gateway, intake
// and routing from their dist/main.js), so memory and event-loop stalls are each server's own.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import {
  type Delivery,
  EVENT_VERSION,
  type Notification,
  natsNames,
  type RequestEvent,
  renderFrame,
  type SessionRequest,
} from '@dibs/contracts';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { Pool } from 'undici';
import { benchDatabase, deleteNatsPrefix } from './lib/bench-db.js';
import { Crowd } from './lib/fanout-clients.js';
import { freePort, gatewayStalls, memoryAfterGc, startBareServer, startServiceProcess } from './lib/fanout-procs.js';
import { COMEBACK_HEARTBEATS, type SlowGroup, slowReaders } from './lib/slow-readers.js';
import { percentile, ratio } from './stats.js';

const CLIENTS = Number(process.env.FANOUT_CLIENTS ?? 10_000);
const BROADCASTS = Number(process.env.FANOUT_BROADCASTS ?? 7);
const RATE = Number(process.env.FANOUT_E2E_RATE ?? 200);
const SECONDS = Number(process.env.FANOUT_E2E_SECONDS ?? 10);
const ROUNDS = Number(process.env.FANOUT_E2E_ROUNDS ?? 2);
const REPS = Number(process.env.FANOUT_REPS ?? 2);
const E2E_MECHANICS = 100;
/** (4): as measured when the slow-reader bug was found (issue 10): 50 of them, 2 000 broadcasts. */
const SLOW = Number(process.env.FANOUT_SLOW ?? 50);
const SLOW_HEALTHY = Number(process.env.FANOUT_SLOW_HEALTHY ?? 200);
const SLOW_BROADCASTS = Number(process.env.FANOUT_SLOW_BROADCASTS ?? 2000);
const SLOW_HEARTBEAT_MS = Number(process.env.FANOUT_SLOW_HEARTBEAT_MS ?? 15_000);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const db = await benchDatabase();
const prefix = `fanout_${randomBytes(4).toString('hex')}`;
const sql = new pg.Pool({ connectionString: db.url, max: 2 });
const env = { DATABASE_URL: db.url, NATS_URL, NATS_PREFIX: prefix, AUTH_JWT_SECRET: DEV_JWT_SECRET, NODE_ENV: 'test' };
const nc = await connectNats({ servers: NATS_URL.split(','), name: 'bench-fanout' });
await provisionStreams(await jetstreamManager(nc), natsNames(prefix));
const js = jetstream(nc);
const cleanups: (() => Promise<unknown>)[] = [];

try {
  const customerId = (
    await sql.query(`insert into customers (name, email) values ('Bench Customer', $1) returning id`, [
      `${prefix}@bench.test`,
    ])
  ).rows[0].id as string;
  const mechanicIds = (
    await sql.query<{ id: string }>(
      `insert into mechanics (first_name, last_name, email, status)
       select 'Mo', 'Bench', 'm' || g || '-' || $1 || '@bench.test', 'approved' from generate_series(1, $2) g
       returning id`,
      [prefix, Math.max(CLIENTS, SLOW + SLOW_HEALTHY)],
    )
  ).rows.map((r) => r.id);
  await sql.query(`update feature_flags set is_enabled = true where flag_key = 'ENABLE_FAVORITES_PRIORITY'`);
  const tokens = createTokenService(DEV_JWT_SECRET);
  const mechanicTokens = await Promise.all(mechanicIds.map((sub) => tokens.sign({ sub, role: 'mechanic' }, 6 * 3600)));
  const customerToken = await tokens.sign({ sub: customerId, role: 'customer' }, 6 * 3600);

  const bare = await startBareServer({ ...env, BENCH_PREFIX: prefix });
  cleanups.push(() => bare.stop());
  const gwPort = await freePort();
  const gateway = await startServiceProcess('notification', { ...env, GATEWAY_PORT: String(gwPort) }, gwPort);
  cleanups.push(() => gateway.stop());

  // (1) + (2): the bare server, then the gateway, each with CLIENTS sockets, alternating REPS times.
  const bareUrl = `ws://127.0.0.1:${bare.port}/ws`;
  const gwUrl = `ws://127.0.0.1:${gwPort}/v1/ws`;
  const bareLoops: number[] = [];
  const bareSide: Side = {
    name: 'bare ws',
    pid: bare.child.pid as number,
    inspector: await bare.inspector,
    targets: mechanicIds.map((m) => ({ url: `${bareUrl}?m=${m}` })),
    stretches: bareLoops,
    resetLag: () => bare.lagReset(),
    maxLag: async () => {
      const { maxLagMs, longestLoopMs } = await bare.stalls();
      bareLoops.push(longestLoopMs);
      return maxLagMs;
    },
    // The bare server sends the frame's bytes as they arrive: what the gateway renders, done already.
    send: async ({ frame }) => nc.publish(`${prefix}.barefan`, JSON.stringify(frame)),
  };
  const slices: number[] = [];
  const gwSide: Side = {
    name: 'gateway',
    pid: gateway.child.pid as number,
    inspector: await gateway.inspector,
    targets: mechanicTokens.map((t) => ({ url: gwUrl, headers: { authorization: `Bearer ${t}` } })),
    stretches: slices,
    resetLag: () => gatewayStalls(gateway.url),
    maxLag: async () => {
      const { lagMs, sliceMs } = await gatewayStalls(gateway.url);
      slices.push(sliceMs);
      return lagMs;
    },
    // As routing's outbox publishes a broadcast: the lifecycle event, which carries `new_request`.
    send: async ({ id, event }) =>
      void (await js.publish(`${prefix}.events.request.broadcast`, JSON.stringify(event), { msgID: id })),
  };
  const bareRuns: FanoutRun[] = [];
  const gwRuns: FanoutRun[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    bareRuns.push(await fanout(bareSide));
    gwRuns.push(await fanout(gwSide));
  }
  const bareFan = summarizeRuns(bareRuns);
  const gwFan = summarizeRuns(gwRuns);

  // (3): intake + routing + gateway against the bare pipeline, alternating rounds.
  const intakePort = await freePort();
  const routingPort = await freePort();
  const intake = await startServiceProcess(
    'intake',
    { ...env, INTAKE_PORT: String(intakePort) },
    intakePort,
    '/healthz',
  );
  cleanups.push(() => intake.stop());
  const routing = await startServiceProcess('routing', { ...env, ROUTING_PORT: String(routingPort) }, routingPort);
  cleanups.push(() => routing.stop());
  const e2eIds = mechanicIds.slice(0, E2E_MECHANICS);
  const gwCrowd = new Crowd();
  const bareCrowd = new Crowd();
  cleanups.push(
    () => gwCrowd.close(),
    () => bareCrowd.close(),
  );
  await gwCrowd.open(
    mechanicTokens.slice(0, E2E_MECHANICS).map((t) => ({ url: gwUrl, headers: { authorization: `Bearer ${t}` } })),
  );
  await bareCrowd.open(e2eIds.map((m) => ({ url: `${bareUrl}?m=${m}` })));
  gwCrowd.watchE2e('"plan_code":"e2e-');
  bareCrowd.watchE2e('"plan_code":"e2e-');
  const intakeHttp = new Pool(intake.url, { connections: 32 });
  const bareHttp = new Pool(`http://127.0.0.1:${bare.port}`, { connections: 32 });
  cleanups.push(
    () => intakeHttp.close(),
    () => bareHttp.close(),
  );

  // Where the offer shows up on NATS (seen by this process): the gateway's own share of the
  // latency is from there to the socket, next to the bare server's NATS hop + ws send.
  const onNats = new Map<string, number>();
  for (const subject of [`${prefix}.events.request.priority_notified`, `${prefix}.bare.*`]) {
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const plan = (msg.json() as { request?: { plan_code?: string } }).request?.plan_code;
        if (plan?.startsWith('e2e-')) onNats.set(plan, performance.now());
      },
    });
  }
  const e2e = { bare: [] as number[], gateway: [] as number[] };
  const hops = { bare: [] as number[], gateway: [] as number[] };
  let failures = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['bare', 'gateway'] as const) {
      const crowd = side === 'bare' ? bareCrowd : gwCrowd;
      const sent = new Map<string, number>();
      const pending: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 0; i < RATE * SECONDS; i++) {
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const plan = `e2e-${side}-${round}-${i}`;
        const mechanic = e2eIds[i % e2eIds.length] as string;
        sent.set(plan, performance.now());
        const req =
          side === 'bare'
            ? bareHttp.request({
                method: 'POST',
                path: '/bare',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ mechanic_id: mechanic, plan_code: plan, customer_id: customerId }),
              })
            : intakeHttp.request({
                method: 'POST',
                path: '/v1/session-requests',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${customerToken}` },
                body: JSON.stringify({
                  session_type: 'video',
                  plan_code: plan,
                  preferred_mechanic_id: mechanic,
                  routing_type: 'priority_broadcast',
                }),
              });
        pending.push(
          req.then(async (res) => {
            await res.body.text();
            if (res.statusCode !== 201) failures++;
          }),
        );
      }
      await Promise.all(pending);
      const deadline = Date.now() + 15_000;
      while ([...sent.keys()].some((p) => !crowd.e2e.has(p)) && Date.now() < deadline) await sleep(50);
      for (const [plan, at] of sent) {
        const got = crowd.e2e.get(plan);
        if (got === undefined) failures++;
        else {
          e2e[side].push(got - at);
          const seen = onNats.get(plan);
          if (seen !== undefined) hops[side].push(got - seen);
        }
      }
      process.stdout.write(`e2e ${side} round ${round + 1}: ${sent.size} requests\n`);
      await sleep(1000);
    }
  }

  // Where the gateway path's time goes, from the rows: intake's insert → routing's offer committed.
  await Promise.all([gwCrowd.close(), bareCrowd.close(), gateway.stop()]);
  // (4): a fresh gateway, so its memory before the burst is a level, not the leftovers of (1)–(3).
  const slowPort = await freePort();
  // Default settings (1 MiB bound, 15 s heartbeat unless FANOUT_SLOW_HEARTBEAT_MS), as a phone meets them in production.
  const slowGateway = await startServiceProcess(
    'notification',
    { ...env, GATEWAY_PORT: String(slowPort), GATEWAY_HEARTBEAT_MS: String(SLOW_HEARTBEAT_MS) },
    slowPort,
  );
  cleanups.push(() => slowGateway.stop());
  const slow = await slowReaders({
    gateway: slowGateway,
    wsUrl: `ws://127.0.0.1:${slowPort}/v1/ws`,
    tokens: mechanicTokens.slice(0, SLOW_HEALTHY + SLOW),
    healthy: SLOW_HEALTHY,
    broadcasts: SLOW_BROADCASTS,
    heartbeatMs: SLOW_HEARTBEAT_MS,
    broadcast: async (marker) => {
      const { id, event } = newRequestPayload(marker);
      await js.publish(`${prefix}.events.request.broadcast`, JSON.stringify(event), { msgID: id });
      return async () => {
        const taken = takenEvent(event);
        await js.publish(`${prefix}.events.request.accepted`, JSON.stringify(taken), { msgID: taken.id });
      };
    },
  });
  await slowGateway.stop();

  const stages = (
    await sql.query<{ routed_p50: number; routed_p99: number }>(
      `select percentile_cont(0.5) within group (order by extract(epoch from r.priority_notified_at - r.created_at) * 1000) routed_p50,
              percentile_cont(0.99) within group (order by extract(epoch from r.priority_notified_at - r.created_at) * 1000) routed_p99
         from session_requests r
        where r.plan_code like 'e2e-gateway-%'`,
    )
  ).rows[0];
  const e2eRow = (name: string, xs: number[]) => ({
    name,
    n: xs.length,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
  });
  const eb = e2eRow('bare', e2e.bare);
  const eg = e2eRow('gateway', e2e.gateway);
  const fmt = (n: number) => n.toFixed(1);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  const { before: m0, after: m1 } = slow.memory;
  const lines = [
    `clients ${CLIENTS}, ${BROADCASTS} broadcasts × ${REPS} alternating connects per side, e2e ${RATE} req/s × ${SECONDS} s × ${ROUNDS} rounds per side; node ${process.version}`,
    '',
    '| measure | bare ws | gateway | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
    `| (1) broadcast, time to last socket, median ms | ${fmt(bareFan.median)} | ${fmt(gwFan.median)} | ${ratio(gwFan.median, bareFan.median)} | ≤ 1.3 |`,
    `| (1) broadcast, time to last socket, all runs ms | ${bareFan.times.map(fmt).join(', ')} | ${gwFan.times.map(fmt).join(', ')} | | |`,
    `| (1) longest event-loop stall during a broadcast (all runs), ms | ${bareFan.lags.map(fmt).join(', ')} | ${gwFan.lags.map(fmt).join(', ')} | | ≤ 50 |`,
    `| (1) same, control without broadcast (1 s idle), ms | ${fmt(bareFan.idleLag)} | ${fmt(gwFan.idleLag)} | | |`,
    `| (1) longest synchronous stretch of one broadcast, ms | ${fmt(Math.max(...bareLoops))} | ${fmt(Math.max(...slices))} | | ≤ 50 |`,
    `| (2) memory per connection, RSS after full GC (first connect of a fresh process), KiB | ${fmt(bareFan.rssKiB)} | ${fmt(gwFan.rssKiB)} | ${ratio(gwFan.rssKiB, bareFan.rssKiB)} | ≤ 2 |`,
    `| (2) memory per connection, JS heap after full GC (first connect; every connect: ${bareFan.heapRuns.map(fmt).join(', ')} / ${gwFan.heapRuns.map(fmt).join(', ')}), KiB | ${fmt(bareFan.heapKiB)} | ${fmt(gwFan.heapKiB)} | ${ratio(gwFan.heapKiB, bareFan.heapKiB)} | |`,
    `| (3) e2e p50, ms | ${fmt(eb.p50)} | ${fmt(eg.p50)} | ${ratio(eg.p50, eb.p50)} | ≤ 2 |`,
    `| (3) e2e p99, ms | ${fmt(eb.p99)} | ${fmt(eg.p99)} | ${ratio(eg.p99, eb.p99)} | ≤ 3 |`,
    `| (3) last hop, offer on NATS → socket, p50 / p99 ms | ${fmt(percentile(hops.bare, 50))} / ${fmt(percentile(hops.bare, 99))} | ${fmt(percentile(hops.gateway, 50))} / ${fmt(percentile(hops.gateway, 99))} | ${ratio(percentile(hops.gateway, 50), percentile(hops.bare, 50))} / ${ratio(percentile(hops.gateway, 99), percentile(hops.bare, 99))} | |`,
    `| (3) gateway path: intake insert → routing's offer committed, p50 / p99 ms | | ${fmt(stages?.routed_p50 ?? Number.NaN)} / ${fmt(stages?.routed_p99 ?? Number.NaN)} | | |`,
    '',
    `(4) slow readers: ${slow.back.sockets + slow.gone.sockets} mechanics stop reading during ${slow.broadcasts} broadcasts (each then taken), ${slow.healthy} keep reading; GATEWAY_MAX_BUFFERED_BYTES 1 MiB (default), heartbeat ${SLOW_HEARTBEAT_MS / 1000} s`,
    '',
    '| measure | before the burst | slow sockets closed | after / before |',
    '| --- | --- | --- | --- |',
    `| (4) gateway JS heap after full GC, MiB | ${mib(m0.heap)} | ${mib(m1.heap)} | ${ratio(m1.heap, m0.heap)} |`,
    `| (4) gateway RSS after full GC, MiB (peak during the burst ${mib(slow.peakRss)}) | ${mib(m0.rss)} | ${mib(m1.rss)} | ${ratio(m1.rss, m0.rss)} |`,
    '',
    `(4) read again ${(COMEBACK_HEARTBEATS * SLOW_HEARTBEAT_MS) / 1000} s after they stopped (the gateway was closing ${slow.closingAtComeback} of the ${SLOW} by then): ${slowGroup(slow.back)}`,
    `(4) read again only after the gateway let go: ${slowGroup(slow.gone)}`,
    `(4) the burst took ${(slow.burstMs / 1000).toFixed(1)} s; waited ${(slow.slowClosedAfterMs / 1000).toFixed(1)} s from its start for the gateway to close the slow sockets; healthy sockets with every broadcast and its request_taken, still open: ${slow.healthyComplete} of ${slow.healthy}`,
    '',
    `e2e samples: bare ${eb.n}, gateway ${eg.n}; failures (non-201 or offer not received in 15 s): ${failures}`,
    `broadcast deliveries short of ${CLIENTS}: bare ${bareFan.missing}, gateway ${gwFan.missing}`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await deleteNatsPrefix(nc, prefix);
  await nc.close();
  await sql.end();
  await db.drop();
}

interface Target {
  url: string;
  headers?: Record<string, string>;
}

interface Side {
  name: string;
  pid: number;
  inspector: string;
  targets: Target[];
  /** The longest synchronous stretch of each broadcast so far, ms (filled by maxLag). */
  stretches: number[];
  resetLag(): Promise<unknown>;
  maxLag(): Promise<number>;
  /** Broadcasts `payload` the way this side's server expects it. */
  send(payload: ReturnType<typeof newRequestPayload>): Promise<void>;
}

interface FanoutRun {
  times: number[];
  lags: number[];
  /** Longest stall in 1 s without any broadcast (the control: scrapes, heartbeats, refreshes). */
  idleLag: number;
  heapKiB: number;
  rssKiB: number;
  missing: number;
}

/** Connects every target, measures retained memory per socket, then times BROADCASTS broadcasts. */
async function fanout(side: Side): Promise<FanoutRun> {
  const crowd = new Crowd();
  await sleep(1000);
  const before = await memoryAfterGc(side.inspector, side.pid);
  const t0 = performance.now();
  await crowd.open(side.targets);
  process.stdout.write(
    `${side.name}: ${crowd.sockets.length} sockets open in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  await sleep(3000);
  const after = await memoryAfterGc(side.inspector, side.pid);
  const n = side.targets.length;
  await side.resetLag();
  await sleep(1000);
  const idleLag = await side.maxLag();
  const run: FanoutRun = {
    times: [],
    lags: [],
    idleLag,
    heapKiB: (after.heap - before.heap) / n / 1024,
    rssKiB: (after.rss - before.rss) / n / 1024,
    missing: 0,
  };
  process.stdout.write(
    `${side.name}: per socket ${run.heapKiB.toFixed(1)} KiB heap, ${run.rssKiB.toFixed(1)} KiB RSS\n`,
  );
  // One broadcast not measured: first-time per-socket allocations and JIT warm-up, on both sides.
  const warm = newRequestPayload();
  const warmed = crowd.expect(warm.event.request.id);
  await side.send(warm);
  await warmed;
  await sleep(500);
  for (let i = 0; i < BROADCASTS; i++) {
    const payload = newRequestPayload();
    await side.resetLag();
    const arrival = crowd.expect(payload.event.request.id);
    const start = performance.now();
    await side.send(payload);
    const { last, received } = await arrival;
    run.missing += n - received;
    run.times.push(last - start);
    run.lags.push(await side.maxLag());
    process.stdout.write(
      `${side.name}: broadcast ${i + 1}: ${run.times.at(-1)?.toFixed(1)} ms to the last socket, max stall ${run.lags.at(-1)?.toFixed(1)} ms, longest delivery stretch ${side.stretches.at(-1)?.toFixed(1)} ms\n`,
    );
    await sleep(500);
  }
  await crowd.close();
  return run;
}

function summarizeRuns(runs: FanoutRun[]) {
  const times = runs.flatMap((r) => r.times);
  const median = (xs: number[]) => percentile(xs, 50);
  return {
    times,
    median: median(times),
    lags: runs.flatMap((r) => r.lags),
    idleLag: Math.max(...runs.map((r) => r.idleLag)),
    // Memory from the first connect of a fresh process: later connects reuse pages and table
    // capacity the first one left behind, so they understate (they are printed alongside).
    heapKiB: runs[0]?.heapKiB ?? Number.NaN,
    heapRuns: runs.map((r) => r.heapKiB),
    rssKiB: runs[0]?.rssKiB ?? Number.NaN,
    missing: runs.reduce((n, r) => n + r.missing, 0),
  };
}

function slowGroup(g: SlowGroup): string {
  const closes = Object.entries(g.closes)
    .map(([code, n]) => `${code} × ${n}`)
    .join(', ');
  return `${g.sockets} sockets, closed ${closes}, after ${g.frames.join('–')} broadcast frames`;
}

/** The broadcast's request taken by another mechanic: `request_taken` to every socket it was offered to. */
function takenEvent(broadcast: RequestEvent): RequestEvent {
  const now = new Date().toISOString();
  const mechanicId = randomUUID();
  return {
    ...broadcast,
    id: randomUUID(),
    kind: 'accepted',
    occurred_at: now,
    request: { ...broadcast.request, status: 'accepted', mechanic_id: mechanicId, accepted_at: now },
    actor_mechanic_id: mechanicId,
    notify: [{ type: 'request_taken', mechanic_id: null }],
  };
}

/** A broadcast as routing publishes it (a lifecycle event carrying `new_request`) and the frame a socket gets. */
function newRequestPayload(planCode = 'basic'): { id: string; event: RequestEvent; frame: Notification } {
  const now = new Date().toISOString();
  const request: SessionRequest = {
    id: randomUUID(),
    customer_id: randomUUID(),
    customer_name: 'Bench Customer',
    customer_email: 'bench@example.test',
    session_type: 'video',
    plan_code: planCode,
    status: 'pending',
    routing_type: 'priority_broadcast',
    preferred_mechanic_id: randomUUID(),
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: now,
    priority_expires_at: now,
    broadcast_at: now,
    fallback_reason: 'priority_timeout',
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: now,
    offers: [],
    current_tier: null,
    experiment: null,
  };
  const event: RequestEvent = {
    v: EVENT_VERSION,
    id: randomUUID(),
    kind: 'broadcast',
    occurred_at: now,
    request,
    actor_mechanic_id: null,
    notify: [{ type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: [] }],
    price: null,
  };
  return { id: event.id, event, frame: renderFrame(event, event.notify[0] as Delivery) };
}
