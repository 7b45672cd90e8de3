// pnpm bench:windows — N concurrent priority windows held by routing (a real child process, as
// deployed), all left to expire. Measures lateness (fire time − deadline) and that each window
// fired exactly once, created → offered for new requests meanwhile, and routing's RSS; compares
// with the lateness of single windows on an idle system (the floor), in the same run.
// `--mode=sequence` holds N sequences of 3 tiers instead (lib/windows-sequence.ts), against the
// same floor.
//
// The bench plays intake: it stores requests and their `request.created` outbox rows in one
// statement, publishes them right after the commit and runs an outbox relay, exactly as intake does.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsNames } from '@dibs/contracts';
import { createOutboxPublisher, createOutboxRelay, PUBLISHER_GRACE_MS } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { benchDatabase } from './lib/bench-db.js';
import { runSequences, sequencePlan } from './lib/windows-sequence.js';
import {
  databaseSettings,
  freePort,
  inspectorOf,
  requestStore,
  sequenceStore,
  sleep,
  summarize,
  waitFor,
  waitReady,
} from './lib/windows-support.js';
import { ratio } from './stats.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
/** `single`: N priority windows; `sequence`: N sequences of 3 tiers. Both measure the single-window floor first. */
const MODE = arg('mode') ?? process.env.BENCH_MODE ?? 'single';
if (MODE !== 'single' && MODE !== 'sequence') throw new Error(`--mode=${MODE}: single or sequence`);
const N = Number(arg('n') ?? process.env.BENCH_WINDOWS ?? 100_000);
/** Windows opened per second while filling up (the same rate they then expire at). */
const OPEN_RATE = Number(process.env.BENCH_OPEN_RATE ?? 500);
/** How long all N windows stay open together before the first expires. */
const HOLD_S = Number(process.env.BENCH_HOLD_SECONDS ?? 20);
const FLOOR_WINDOWS = Number(process.env.BENCH_FLOOR_WINDOWS ?? 20);
const PROBE_EVERY_MS = Number(process.env.BENCH_PROBE_MS ?? 100);
const WINDOW_S = Math.ceil(N / OPEN_RATE + HOLD_S);
// Sequence mode: each tier lasts WINDOW_S unless `--tiers=<s>,<s>,<s>` says otherwise, so all N
// sequences are open together in each tier and each tier then ends at OPEN_RATE.
const PLAN = sequencePlan((arg('tiers') ?? `${WINDOW_S},${WINDOW_S},${WINDOW_S}`).split(',').map(Number));
// One window "minute" is one second here, so priority_window_minutes reads as seconds; a tier may
// last at most 120 minutes (the schema's bound), so longer sequence tiers stretch the minute.
const MINUTE_MS = MODE === 'sequence' ? PLAN.minuteMs : 1000;
/** The floor's single windows last about 2 s. */
const FLOOR_MINUTES = Math.max(1, Math.round(2000 / MINUTE_MS));
/** Phases of sequence mode whose routing CPU profile is recorded (`--profile=fill,1,2,3` or `all`). */
const PROFILE = arg('profile') ?? '';
/** Diagnosis: statements of this run slower than this many ms get their plan in PostgreSQL's log. */
const AUTO_EXPLAIN_MS = Number(process.env.BENCH_AUTO_EXPLAIN_MS ?? 0);
/** Diagnosis: `name=value,…` set on the run's database for every connection (e.g. plan_cache_mode=force_custom_plan). */
const PG_SETTINGS = process.env.BENCH_PG_SETTINGS ?? '';
/** Diagnosis: `vacuum (analyze)` routing's tables this often, standing in for autovacuum where it is off. */
const VACUUM_EVERY_S = Number(process.env.BENCH_VACUUM_EVERY_S ?? 0);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const log = (msg: string) => process.stdout.write(`[bench:windows ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ── infrastructure ─────────────────────────────────────────────────────────────────────────────
const db = await benchDatabase();
const prefix = `benchw_${randomUUID().slice(0, 8)}`;
const names = natsNames(prefix);
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
if (PG_SETTINGS || AUTO_EXPLAIN_MS > 0) await databaseSettings(pool, PG_SETTINGS, AUTO_EXPLAIN_MS);
const vacuumTimer =
  VACUUM_EVERY_S > 0
    ? setInterval(() => {
        const t0 = Date.now();
        void pool
          .query('vacuum (analyze) session_requests, session_request_offers, outbox, intake_outbox')
          .then(() => log(`vacuum (analyze) took ${Date.now() - t0} ms`))
          .catch(() => undefined);
      }, VACUUM_EVERY_S * 1000)
    : undefined;
const nc = await connectNats({ servers: NATS_URL.split(','), name: 'bench-windows' });
await provisionStreams(await jetstreamManager(nc), names);
const logger = createLogger({ service: 'bench-windows', level: 'warn', pretty: false });
const relay = createOutboxRelay({
  databaseUrl: db.url,
  owner: 'intake',
  js: jetstream(nc),
  prefix,
  logger,
  graceMs: PUBLISHER_GRACE_MS,
});
const publisher = createOutboxPublisher({ databaseUrl: db.url, owner: 'intake', js: jetstream(nc), prefix, logger });
await relay.start();

const customers = await insertMany(
  'customers',
  200,
  (i) => [`Customer ${i}`, `c${i}-${randomUUID()}@bench.test`],
  'name, email',
);
const mechanics = await insertMany(
  'mechanics',
  200,
  (i) => ['Mech', `${i}`, `m${i}-${randomUUID()}@bench.test`, 'approved'],
  'first_name, last_name, email, status',
);
await pool.query(
  `update feature_flags set is_enabled = true, rollout_percentage = 100 where flag_key = 'ENABLE_FAVORITES_PRIORITY'`,
);

async function insertMany(
  table: string,
  n: number,
  row: (i: number) => string[],
  cols: string,
): Promise<{ id: string; name: string }[]> {
  const rows = Array.from({ length: n }, (_, i) => row(i));
  const width = rows[0]?.length ?? 0;
  const values = rows.map((_, i) => `(${Array.from({ length: width }, (_, j) => `$${i * width + j + 1}`).join(', ')})`);
  const { rows: out } = await pool.query(
    `insert into ${table} (${cols}) values ${values.join(', ')} returning *`,
    rows.flat(),
  );
  return out.map((r) => ({ id: r.id, name: r.name ?? `${r.first_name} ${r.last_name}` }));
}

// ── routing, as a process of its own ──────────────────────────────────────────────────────────
const routingPort = await freePort();
const routing: ChildProcess = spawn(
  process.execPath,
  [...(PROFILE ? ['--inspect=127.0.0.1:0'] : []), path.join(root, 'services/routing/dist/main.js')],
  {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      PRIORITY_MINUTE_MS: String(MINUTE_MS),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ROUTING_PORT: String(routingPort),
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  },
);
routing.stderr?.pipe(process.stderr);
const inspector = PROFILE ? inspectorOf(routing) : null;
await waitReady(`http://127.0.0.1:${routingPort}/readyz`);
let peakRss = 0;
const rss = (): number => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${routing.pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
};
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, rss());
}, 500);

// ── what reaches NATS ─────────────────────────────────────────────────────────────────────────
const broadcastEvents = new Map<string, number>();
const newRequestAt = new Map<string, number>();
let newRequestRepeats = 0;
const offerAt = new Map<string, number>();
const createdSeenAt = new Map<string, number>();
nc.subscribe(names.subjects.event('created'), {
  callback: (_e, m) => {
    const id = (m.json() as { request: { id: string } }).request.id;
    if (!createdSeenAt.has(id)) createdSeenAt.set(id, Date.now());
  },
});
// The broadcast event carries the `new_request` every mechanic is sent: its arrival is the offer's.
nc.subscribe(names.subjects.event('broadcast'), {
  callback: (_e, m) => {
    const body = m.json() as { request: { id: string }; notify: { type: string }[] };
    const id = body.request.id;
    broadcastEvents.set(id, (broadcastEvents.get(id) ?? 0) + 1);
    if (!body.notify.some((d) => d.type === 'new_request')) return;
    if (newRequestAt.has(id)) newRequestRepeats++;
    else newRequestAt.set(id, Date.now());
  },
});
nc.subscribe(names.subjects.event('priority_notified'), {
  callback: (_e, m) => {
    const body = m.json() as { request: { id: string }; notify: { type: string }[] };
    if (body.notify.some((d) => d.type === 'priority_session_request') && !offerAt.has(body.request.id))
      offerAt.set(body.request.id, Date.now());
  },
});
await nc.flush();
const { book, rows } = requestStore(pool, customers, mechanics, (entries) => void publisher.publish(entries));

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows: r } = await pool.query(sql, params);
  return Number(r[0]?.n ?? 0);
}

try {
  // ── 1. the floor: single windows on an idle system ────────────────────────────────────────────
  log(`floor: ${FLOOR_WINDOWS} single ${(FLOOR_MINUTES * MINUTE_MS) / 1000} s windows, one at a time`);
  const floorIds: string[] = [];
  for (let i = 0; i < FLOOR_WINDOWS; i++) {
    const [id] = await book(1, FLOOR_MINUTES);
    floorIds.push(id as string);
    await waitFor(async () => (await rows([id as string]))[0]?.broadcast != null, 20_000, 'a floor window');
    await waitFor(() => newRequestAt.has(id as string), 10_000, 'its new_request');
  }
  const floorRows = await rows(floorIds);
  const floorFired = summarize(floorRows.map((r) => (r.broadcast as number) - r.expires));
  const floorDelivered = summarize(floorRows.map((r) => (newRequestAt.get(r.id) as number) - r.expires));
  log(`floor lateness: fired p50 ${floorFired.p50.toFixed(1)} ms, delivered p50 ${floorDelivered.p50.toFixed(1)} ms`);

  if (MODE === 'sequence') {
    const report = await runSequences({
      n: N,
      openRate: OPEN_RATE,
      probeEveryMs: PROBE_EVERY_MS,
      plan: PLAN,
      floor: { fired: floorFired, delivered: floorDelivered },
      store: sequenceStore(pool, customers, mechanics, (entries) => void publisher.publish(entries)),
      pool,
      nc,
      names,
      databaseUrl: db.url,
      routing: { pid: routing.pid as number, port: routingPort, inspector, rss, peakRss: () => peakRss },
      profile: PROFILE,
      log,
    });
    process.stdout.write(`\n${report.join('\n')}\n\n`);
  } else {
    // ── 2. probes: new requests created all along, created → offered ──────────────────────────────
    type Phase = 'filling' | 'holding' | 'expiring';
    let phase: Phase = 'filling';
    const probes: { id: string; t0: number; phase: Phase }[] = [];
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        const t0 = Date.now();
        const [id] = await book(1, 1_000_000, new Date(t0));
        probes.push({ id: id as string, t0, phase });
        await sleep(Math.max(0, PROBE_EVERY_MS - (Date.now() - t0)));
      }
    })();

    // ── 3. fill: N windows opened at OPEN_RATE, each WINDOW_S long ────────────────────────────────
    log(`filling: ${N} windows of ${WINDOW_S} s at ${OPEN_RATE}/s`);
    const ids: string[] = [];
    const batch = Math.max(1, Math.round(OPEN_RATE / 10));
    const fillStart = Date.now();
    for (let sent = 0; sent < N; ) {
      const n = Math.min(batch, N - sent);
      ids.push(...(await book(n, WINDOW_S)));
      sent += n;
      const due = fillStart + (sent / OPEN_RATE) * 1000;
      await sleep(Math.max(0, due - Date.now()));
      if (sent % (OPEN_RATE * 10) < batch) {
        const offered = await count(
          'select count(*) as n from session_requests where priority_notified_at is not null',
        );
        log(`  stored ${sent}, offered ${offered}, routing RSS ${(rss() / 2 ** 20).toFixed(0)} MiB`);
      }
    }
    const idSet = new Set(ids);
    await waitFor(
      async () =>
        (await count(`select count(*) as n from session_requests where priority_notified_at is not null`)) >=
        N + FLOOR_WINDOWS,
      WINDOW_S * 1000,
      'every window to open',
    );
    const fillSeconds = (Date.now() - fillStart) / 1000;
    phase = 'holding';
    const openWindows = await count(
      `select count(*) as n from session_requests where status = 'pending' and broadcast_at is null and priority_expires_at is not null`,
    );
    const rssOpen = rss();
    log(
      `all open after ${fillSeconds.toFixed(1)} s: ${openWindows} open windows (incl. probes); routing RSS ${(rssOpen / 2 ** 20).toFixed(0)} MiB`,
    );

    // ── 4. expire: wait for every window to fire ──────────────────────────────────────────────────
    const firstDeadline = (await rows(ids.slice(0, 1)))[0]?.expires ?? Date.now();
    await sleep(Math.max(0, firstDeadline - Date.now()));
    phase = 'expiring';
    log('expiring');
    await waitFor(
      async () => {
        const left = await count(
          `select count(*) as n from session_requests where status = 'pending' and broadcast_at is null
             and priority_expires_at is not null and priority_window_minutes = $1`,
          [WINDOW_S],
        );
        return left === 0;
      },
      (WINDOW_S + 600) * 1000,
      'every window to fire',
    );
    probing = false;
    await probeLoop;
    await waitFor(() => [...idSet].every((id) => newRequestAt.has(id)), 300_000, 'every new_request to arrive');
    await sleep(3000); // let any repeat show up
    clearInterval(rssTimer);

    // ── 5. results ────────────────────────────────────────────────────────────────────────────────
    const fired = await rows(ids);
    const lateFired = fired.map((r) => (r.broadcast as number) - r.expires);
    const lateDelivered = fired.map((r) => (newRequestAt.get(r.id) as number) - r.expires);
    const early = lateFired.filter((l) => l < 0).length;
    const firedOnce = ids.filter((id) => broadcastEvents.get(id) === 1).length;
    const jsm = await jetstreamManager(nc);
    const streamInfo = await jsm.streams.info(names.streams.events, {
      subjects_filter: names.subjects.event('broadcast'),
    });
    const broadcastStored = Object.values(streamInfo.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    const metrics = await (await fetch(`http://127.0.0.1:${routingPort}/metrics`)).text();
    const firedVia = (via: string) =>
      Number(
        new RegExp(`routing_window_lateness_seconds_count\\{[^}]*via="${via}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
      );

    const probeRows = new Map((await rows(probes.map((p) => p.id))).map((r) => [r.id, r]));
    const probeStats = (which: Phase | 'all') => {
      const sel = probes.filter((p) => which === 'all' || p.phase === which);
      return {
        // created → offered = the relay publishing `created` + routing consuming and deciding
        relay: summarize(sel.map((p) => (createdSeenAt.get(p.id) ?? Number.NaN) - p.t0)),
        routing: summarize(
          sel.map((p) => (probeRows.get(p.id)?.notified ?? Number.NaN) - (createdSeenAt.get(p.id) ?? Number.NaN)),
        ),
        offered: summarize(sel.map((p) => (probeRows.get(p.id)?.notified ?? Number.NaN) - p.t0)),
        delivered: summarize(sel.filter((p) => offerAt.has(p.id)).map((p) => (offerAt.get(p.id) as number) - p.t0)),
      };
    };

    const s = summarize(lateFired);
    const d = summarize(lateDelivered);
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
    const lines = [
      `N = ${N} windows of ${WINDOW_S} s, opened at ${OPEN_RATE}/s (all open after ${fillSeconds.toFixed(1)} s, ${openWindows} open at once incl. probes)`,
      '',
      '| lateness (ms, fire − deadline) | p50 | p99 | max |',
      '| --- | --- | --- | --- |',
      `| floor: single window, idle — fired (DB) | ${fmt(floorFired.p50)} | ${fmt(floorFired.p99)} | ${fmt(floorFired.max)} |`,
      `| floor: single window, idle — new_request received | ${fmt(floorDelivered.p50)} | ${fmt(floorDelivered.p99)} | ${fmt(floorDelivered.max)} |`,
      `| ${N} windows — fired (DB \`broadcast_at\`) | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.max)} |`,
      `| ${N} windows — new_request received by a subscriber | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} |`,
      `| ratio fired ${N} / floor | ${ratio(s.p50, floorFired.p50)} | ${ratio(s.p99, floorFired.p99)} | ${ratio(s.max, floorFired.max)} |`,
      '',
      `fired exactly once: ${firedOnce}/${N} (broadcast events seen per request; ${broadcastStored} broadcast events stored in the stream for ${N + FLOOR_WINDOWS} windows incl. floor); repeats of new_request: ${newRequestRepeats}; fired before the deadline: ${early}`,
      `fired by: redelivery (nak-delay) ${firedVia('redelivery')}, sweeper ${firedVia('sweeper')}`,
      '',
      '| created → offered (ms), new requests meanwhile | n | p50 | p99 | max |',
      '| --- | --- | --- | --- | --- |',
      ...(['filling', 'holding', 'expiring', 'all'] as const).flatMap((p) => {
        const st = probeStats(p);
        return [
          `| ${p} — decided (DB \`priority_notified_at\`) | ${st.offered.n} | ${fmt(st.offered.p50)} | ${fmt(st.offered.p99)} | ${fmt(st.offered.max)} |`,
          `| ${p} — offer received by the mechanic's subscriber | ${st.delivered.n} | ${fmt(st.delivered.p50)} | ${fmt(st.delivered.p99)} | ${fmt(st.delivered.max)} |`,
          `| ${p} — of which: stored → \`created\` on NATS (outbox relay) | ${st.relay.n} | ${fmt(st.relay.p50)} | ${fmt(st.relay.p99)} | ${fmt(st.relay.max)} |`,
          `| ${p} — of which: \`created\` on NATS → decided (routing) | ${st.routing.n} | ${fmt(st.routing.p50)} | ${fmt(st.routing.p99)} | ${fmt(st.routing.max)} |`,
        ];
      }),
      '',
      `routing RSS: ${(rssOpen / 2 ** 20).toFixed(0)} MiB with every window open, peak ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
    ];
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  }
} finally {
  // ── cleanup ─────────────────────────────────────────────────────────────────────────────────
  clearInterval(rssTimer);
  clearInterval(vacuumTimer);
  if (routing.exitCode === null && routing.signalCode === null) {
    routing.kill('SIGTERM');
    await new Promise((r) => routing.once('exit', r));
  }
  await publisher.stop();
  await relay.stop();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(names.streams.events).catch(() => undefined);
  await nc.close();
  await pool.end();
  await db.drop();
}
