// pnpm chaos [seconds] — the reliability suite. The four services run as separate processes
// (2 routing replicas, 2 notification gateways, 1 intake, 1 analytics) under a steady load of
// customers booking (plain, through one favorite, or through their ranked favorites in sequence;
// some cancelling), mechanics' apps accepting, declining and racing on WebSockets, and some
// mechanics going away and coming back (availability). Every 2–3 s one random process gets
// kill -9 and comes back 0.3–1 s later. Then the run lets everything settle and checks the
// invariants (ARCHITECTURE.md, CONTRACT §6) on what is left: no acknowledged request lost or
// doubled, none stuck, no window or tier ended early or late while routing ran, tiers one at a
// time and each told once, exactly one winner and every mechanic told the truth, no change told
// twice, no frame twice on one connection, analytics equal to the requests. Any violation: exit 1.
//
// Windows are 2 s and a sequence's tiers 1 s, 0.6 s and 0.4 s (PRIORITY_MINUTE_MS=200; the
// default tier windows of 5, 3 and 2 minutes), so one run sees hundreds of windows end.
// Flags: --seconds=N (or the first argument), --seed=N to replay a run's choices, --rate=N bookings/s.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import { connectNats } from '@dibs/nats';
import pg from 'pg';
import { WebSocket } from 'ws';
import { benchDatabase, deleteNatsPrefix } from './lib/bench-db.js';
import { MechanicApp, type MechanicLog, rng } from './lib/chaos-actors.js';
import { checkAnalytics } from './lib/chaos-analytics.js';
import { checkRun, evidence, type Violation } from './lib/chaos-checks.js';
import { createCluster, type Instance } from './lib/chaos-cluster.js';
import { bookOnce, type CustomerLog, cancelOnce, rankFavorites, setAvailability } from './lib/chaos-http.js';
import { readEvents, readRows, settled } from './lib/chaos-store.js';
import { freePort } from './lib/fanout-procs.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const positional = process.argv.slice(2).find((a) => !a.startsWith('--'));
const SECONDS = Number(arg('seconds') ?? positional ?? process.env.CHAOS_SECONDS ?? 60);
const SEED = Number(arg('seed') ?? process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RATE = Number(arg('rate') ?? process.env.CHAOS_RATE ?? 5);
const MECHANICS = 12;
const CUSTOMERS = 6;
/** Of the priority bookings, the share that goes through the customer's ranked favorites in sequence. */
const SEQUENCE_SHARE = 1 / 3;
/** Mechanics (every third) that go away and come back now and then. */
const AWAY_EVERY = 3;
const MINUTE_MS = 200;
/** A window ending while a routing replica runs is broadcast within this much of its deadline. */
const LATE_TOLERANCE_MS = Number(process.env.CHAOS_LATE_TOLERANCE_MS ?? 1000);
const SETTLE_MS = 60_000;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

if (!Number.isFinite(SECONDS) || SECONDS < 5) {
  console.error(`chaos: seconds must be a number ≥ 5, got ${positional ?? arg('seconds')}`);
  process.exit(2);
}

const random = rng(SEED);
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const db = await benchDatabase();
const prefix = `chaos_${randomBytes(4).toString('hex')}`;
const sql = new pg.Pool({ connectionString: db.url, max: 4 });
const nc = await connectNats({ servers: NATS_URL.split(','), name: 'chaos' });
const cluster = createCluster({
  DATABASE_URL: db.url,
  NATS_URL,
  NATS_PREFIX: prefix,
  AUTH_JWT_SECRET: DEV_JWT_SECRET,
  PRIORITY_MINUTE_MS: String(MINUTE_MS),
});
const mechanicLog: MechanicLog = {
  repeatedFrames: [],
  sharedIds: [],
  repeatedTiers: [],
  wins: new Map(),
  results: new Map(),
  connects: 0,
  offers: 0,
  tierOffers: new Map(),
  histories: new Map(),
  expired: 0,
  dropped: 0,
  availabilityChanges: 0,
  unexpected: [],
  retries: 0,
};
const customerLog: CustomerLog = { acknowledged: [], unexpected: [], retries: 0, abandoned: 0, cancels: [] };
const apps: MechanicApp[] = [];
let exitCode = 0;

try {
  // --- the world: approved mechanics (and one observer who never acts), customers and their favorites ---
  const mechanicIds = (
    await sql.query<{ id: string }>(
      `insert into mechanics (first_name, last_name, email, status)
       select 'Mo', 'Chaos' || g, 'm' || g || '-' || $1 || '@chaos.test', 'approved' from generate_series(0, $2) g
       order by g returning id`,
      [prefix, MECHANICS],
    )
  ).rows.map((r) => r.id);
  const observerId = mechanicIds.pop() as string;
  const customerIds = (
    await sql.query<{ id: string }>(
      `insert into customers (name, email) select 'Customer ' || g, 'c' || g || '-' || $1 || '@chaos.test'
       from generate_series(1, $2) g returning id`,
      [prefix, CUSTOMERS],
    )
  ).rows.map((r) => r.id);
  const favorites = new Map(
    customerIds.map((c, i) => [c, [0, 1, 2].map((k) => mechanicIds[(i * 2 + k) % MECHANICS] as string)]),
  );
  for (const [customer, mechanics] of favorites)
    await sql.query(`insert into favorites (customer_id, mechanic_id) select $1, unnest($2::uuid[])`, [
      customer,
      mechanics,
    ]);
  await sql.query(`update feature_flags set is_enabled = true where flag_key = 'ENABLE_FAVORITES_PRIORITY'`);
  const tokens = createTokenService(DEV_JWT_SECRET);
  const sign = (sub: string, role: 'mechanic' | 'customer' | 'admin') => tokens.sign({ sub, role }, 3600);
  const customerTokens = new Map(
    await Promise.all(customerIds.map(async (id) => [id, await sign(id, 'customer')] as const)),
  );

  // --- the services: analytics first (it provisions the streams like any), then the rest at once ---
  const analytics = cluster.add('analytics', 'analytics', await freePort());
  cluster.start(analytics);
  await cluster.allReady();
  const routing = [
    cluster.add('routing', 'routing-1', await freePort()),
    cluster.add('routing', 'routing-2', await freePort()),
  ];
  const gateways = [
    cluster.add('notification', 'gateway-1', await freePort()),
    cluster.add('notification', 'gateway-2', await freePort()),
  ];
  const intake = cluster.add('intake', 'intake', await freePort());
  for (const i of [...routing, ...gateways, intake]) cluster.start(i);
  await cluster.allReady();
  const wsUrl = (g: Instance) => `${g.url.replace('http:', 'ws:')}/v1/ws`;

  // Each customer ranks two or three of its favorites, in an order of its own (for sequences).
  for (const [customer, mechanics] of favorites) {
    const order = [...mechanics];
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [order[k], order[j]] = [order[j] as string, order[k] as string];
    }
    await rankFavorites(intake.url, customerTokens.get(customer) as string, order.slice(0, random() < 0.5 ? 2 : 3));
  }

  const mechanicTokens = new Map(
    await Promise.all(mechanicIds.map(async (id) => [id, await sign(id, 'mechanic')] as const)),
  );
  for (const [n, id] of mechanicIds.entries()) {
    const app = new MechanicApp(
      id,
      mechanicTokens.get(id) as string,
      wsUrl(gateways[n % 2] as Instance),
      rng(SEED + n + 1),
      mechanicLog,
    );
    apps.push(app);
    app.start();
  }

  console.log(
    `chaos — ${SECONDS} s, seed ${SEED}; ${RATE} bookings/s (60% priority, 2 s windows; a third of those in sequence, ` +
      `tiers of 1/0.6/0.4 s), ${MECHANICS} mechanics on 2 gateways (${Math.floor(MECHANICS / AWAY_EVERY)} of them now and then away), ` +
      `${CUSTOMERS} customers; 1 intake, 2 routing, 2 gateways, 1 analytics; kill -9 every 2–3 s; node ${process.version}`,
  );

  // --- load and chaos, side by side, for SECONDS ---
  const started = Date.now();
  const endAt = started + SECONDS * 1000;
  const giveUpAt = endAt + 30_000;
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const kills: { name: string; at: number }[] = [];

  const load = (async () => {
    while (Date.now() < endAt) {
      const customer = pick(customerIds);
      const token = customerTokens.get(customer) as string;
      const priority = random() < 0.6;
      const sequence = priority && random() < SEQUENCE_SHARE;
      const body = {
        session_type: 'video',
        plan_code: pick(['basic', 'pro']),
        ...(sequence
          ? { routing_type: 'priority_sequence' }
          : priority
            ? { preferred_mechanic_id: pick(favorites.get(customer) as string[]), routing_type: 'priority_broadcast' }
            : {}),
      };
      const cancelAfter = random() < 0.08 ? between(0, 3000) : undefined;
      track(
        (async () => {
          // Its own booking (others are acknowledged meanwhile), cancelled with its own token.
          const booked = await bookOnce(intake.url, token, body, customerLog, giveUpAt);
          if (cancelAfter !== undefined && booked) {
            await sleep(cancelAfter);
            await cancelOnce(intake.url, token, booked.requestId, customerLog, giveUpAt);
          }
        })(),
      );
      await sleep(between(0.5, 1.5) * (1000 / RATE));
    }
  })();

  const chaos = (async () => {
    for (;;) {
      await sleep(between(2000, 3000));
      if (Date.now() >= endAt) return;
      const victim = pick(cluster.instances.filter((i) => i.child !== undefined));
      await cluster.kill(victim);
      kills.push({ name: victim.name, at: Date.now() - started });
      await sleep(between(300, 1000));
      cluster.start(victim);
    }
  })();

  // Some mechanics go away and come back now and then: routing skips them (a sequence's next tier,
  // or a single favorite's request broadcast at once) while they are away.
  const away = mechanicIds
    .filter((_, n) => n % AWAY_EVERY === AWAY_EVERY - 1)
    .map(async (id, n) => {
      const own = rng(SEED + 1000 + n);
      let available = true;
      for (;;) {
        await sleep(1500 + own() * 3500);
        if (Date.now() >= endAt) return;
        if (await setAvailability(intake.url, mechanicTokens.get(id) as string, !available, mechanicLog, giveUpAt)) {
          available = !available;
          mechanicLog.availabilityChanges++;
        }
      }
    });

  await Promise.all([load, chaos, ...away]);
  await cluster.allReady();
  await Promise.all(inFlight);
  const loadEnded = Date.now();

  // --- settle: every window ended, every message consumed; then the apps leave and it settles again ---
  const waiting = new Set<string>();
  const waitSettled = async () => {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const left = await settled(sql, nc, prefix);
      if (left === undefined) return;
      waiting.add(left.replace(/\b\d+ /g, 'N '));
      if (Date.now() > deadline) throw new Error(`not settled ${SETTLE_MS / 1000} s after the run: ${left}`);
      await sleep(200);
    }
  };
  await waitSettled();
  for (const app of apps) app.stop();
  await sleep(500); // accepts the apps sent just before leaving reach routing
  await waitSettled();
  const settleMs = Date.now() - loadEnded;

  // --- the checks ---
  const rows = await readRows(sql);
  const { events } = await readEvents(nc, prefix);
  const { violations, figures } = checkRun({
    rows,
    events,
    customers: customerLog,
    mechanics: mechanicLog,
    routingUpThrough: (from, to) => cluster.upThrough('routing', from, to),
    lateToleranceMs: LATE_TOLERANCE_MS,
  });
  const adminToken = await sign(randomUUID(), 'admin');
  const report = async (path: string) => {
    const res = await fetch(`${intake.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  violations.push(...(await analyticsConverged(() => checkAnalytics(sql, report))));
  violations.push(
    ...(await observerSees(
      wsUrl(gateways[0] as Instance),
      await sign(observerId, 'mechanic'),
      rows.filter((r) => r.status === 'pending' && r.broadcast_at !== null).map((r) => r.id),
    )),
  );

  // --- the figures ---
  const killsBy = new Map<string, number>();
  for (const k of kills) killsBy.set(k.name, (killsBy.get(k.name) ?? 0) + 1);
  const results = [...mechanicLog.results].map(([k, v]) => `${k} ${v}`).join(', ');
  const entries = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const seq = figures.sequences;
  console.log(
    [
      `kills: ${kills.length} (${[...killsBy].map(([n, c]) => `${n} ${c}`).join(', ')})`,
      `bookings acknowledged: ${customerLog.acknowledged.length} (retried attempts ${customerLog.retries}, abandoned ${customerLog.abandoned}, cancels answered ${customerLog.cancels.length})`,
      `requests: ${figures.requests}; priority windows ${figures.priority}: accepted by the favorite ${figures.acceptedByPreferred}, timed out ${figures.timedOut}, declined ${figures.declined}, failed ${figures.failed}; favorite unavailable ${figures.unavailable}; cancelled ${figures.cancelled}; broadcast and still open ${figures.broadcastPending}`,
      `windows broadcast after their deadline (routing up): p50 ${figures.lateness.p50} ms, p99 ${figures.lateness.p99} ms, max ${figures.lateness.max} ms over ${figures.lateness.count}; ${figures.lateWhileRoutingDown} deadlines fell while no routing replica was up`,
      `sequences ${seq.requests}: tiers offered ${seq.tiersOffered} (${seq.laterTiersOffered} beyond tier 1); tier outcomes ${entries(seq.outcomes)}; broadcast ${entries(seq.fallbacks)}`,
      `timed-out tiers moved on after their deadline (routing up): p50 ${seq.lateness.p50} ms, p99 ${seq.lateness.p99} ms, max ${seq.lateness.max} ms over ${seq.lateness.count}; ${seq.lateWhileRoutingDown} deadlines fell while no routing replica was up`,
      `mechanics' apps: ${mechanicLog.connects} connections, ${mechanicLog.offers} offers (priority by tier: ${entries(Object.fromEntries(mechanicLog.tierOffers))}), ${mechanicLog.expired} offer_expired (answers they dropped: ${mechanicLog.dropped}), command results: ${results}; availability changed ${mechanicLog.availabilityChanges} times`,
      `events: ${events.length}; settled ${(settleMs / 1000).toFixed(1)} s after the load stopped` +
        (waiting.size ? ` (waited on: ${[...waiting].join('; ')})` : ''),
      violations.length === 0
        ? 'invariants: all hold'
        : `invariants VIOLATED:\n${violations.map((v) => `  ${v.check}: ${v.count} — e.g. ${JSON.stringify(v.examples)}`).join('\n')}`,
    ].join('\n'),
  );
  if (violations.length > 0)
    console.log(
      `what the run left of requests named above:\n${evidence(violations, rows, events, mechanicLog.histories).join('\n')}`,
    );
  console.log(
    `chaos-summary ${JSON.stringify({ seed: SEED, seconds: SECONDS, kills: kills.length, acknowledged: customerLog.acknowledged.length, availabilityChanges: mechanicLog.availabilityChanges, ...figures, violations: violations.map((v) => ({ check: v.check, count: v.count })) })}`,
  );
  if (violations.length > 0 || kills.length === 0) exitCode = 1;
} catch (err) {
  console.error('chaos: the run could not finish:', err);
  for (const i of cluster.instances) if (i.tail.length) console.error(`--- ${i.name}\n${i.tail.slice(-10).join('\n')}`);
  exitCode = 1;
} finally {
  for (const app of apps) app.stop();
  await Promise.all(cluster.instances.map((i) => cluster.stop(i)));
  await deleteNatsPrefix(nc, prefix).catch((err) => console.error('cleanup:', err));
  await nc.close();
  await sql.end();
  await db.drop();
}
process.exit(exitCode);

/** The projection is eventually consistent: asks again for a while before calling it a violation. */
async function analyticsConverged(check: () => Promise<Violation[]>): Promise<Violation[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const violations = await check();
    if (violations.length === 0 || Date.now() > deadline) return violations;
    await sleep(500);
  }
}

/** A mechanic who connects now is offered every request still open to everyone (its snapshot). */
async function observerSees(url: string, token: string, open: string[]): Promise<Violation[]> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const snapshot = await new Promise<string[]>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; open_requests?: { request: { id: string } }[] };
      if (frame.type === 'snapshot') resolve((frame.open_requests ?? []).map((o) => o.request.id));
    });
    ws.once('error', reject);
    setTimeout(() => reject(new Error('no snapshot within 10 s')), 10_000).unref();
  });
  ws.terminate();
  const seen = new Set(snapshot);
  const missing = open.filter((id) => !seen.has(id));
  const extra = snapshot.filter((id) => !open.includes(id));
  return [
    ...(missing.length
      ? [{ check: 'open request missing from a new snapshot', count: missing.length, examples: missing.slice(0, 5) }]
      : []),
    ...(extra.length
      ? [{ check: 'snapshot offers a request that is not open', count: extra.length, examples: extra.slice(0, 5) }]
      : []),
  ];
}
