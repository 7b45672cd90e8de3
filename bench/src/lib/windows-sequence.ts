// bench:windows --mode=sequence — N concurrent sequences (`priority_sequence`, CONTRACT §6) of 3
// tiers held by routing, every tier left to time out and the last ending in a broadcast. Measures
// the lateness of each tier transition (the next tier's offer, or the broadcast, after the ended
// tier's stored deadline) against the single-window floor windows.ts measured in the same run,
// that every transition happened exactly once (rows and events), created → offered (tier 1), and
// per phase what routing, PostgreSQL and NATS spent and waited on (`--profile`: routing's CPU profile).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NatsNames } from '@dibs/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { ratio } from '../stats.js';
import { startCpuProfile, summarizeProfile } from './cpu-profile.js';
import { pgActivity } from './pg-activity.js';
import { cpuMeter, pidsNamed } from './proc-cpu.js';
import { type SequenceRow, type sequenceStore, sleep, summarize, waitFor } from './windows-support.js';

type Summary = ReturnType<typeof summarize>;

const FLOOR_SEQUENCES = Number(process.env.BENCH_FLOOR_SEQUENCES ?? 5);

export interface SequencePlan {
  /** Each tier's length as stored, in minutes of `minuteMs`. */
  tierMinutes: number[];
  /** PRIORITY_MINUTE_MS routing runs with. */
  minuteMs: number;
}

/** Tier lengths in seconds → whole minutes, a minute stretched so each tier fits the schema's 120. */
export function sequencePlan(tierSeconds: number[]): SequencePlan {
  if (tierSeconds.length < 1 || tierSeconds.length > 3 || tierSeconds.some((s) => !(s > 0))) {
    throw new Error('--tiers=<s>[,<s>[,<s>]]: one to three tier lengths in seconds');
  }
  const minuteMs = 1000 * Math.ceil(Math.max(...tierSeconds) / 120);
  return { minuteMs, tierMinutes: tierSeconds.map((s) => Math.max(1, Math.round((s * 1000) / minuteMs))) };
}

export interface SequenceContext {
  n: number;
  openRate: number;
  probeEveryMs: number;
  plan: SequencePlan;
  /** The single-window floor, idle, measured just before: fired (DB) and `new_request` received. */
  floor: { fired: Summary; delivered: Summary };
  store: ReturnType<typeof sequenceStore>;
  pool: pg.Pool;
  nc: NatsConnection;
  names: NatsNames;
  databaseUrl: string;
  routing: {
    pid: number;
    port: number;
    inspector: Promise<string> | null;
    rss: () => number;
    peakRss: () => number;
  };
  /** Phases to profile routing in: `fill`, `1`…`3` (tier k ending), comma-separated, or `all`. */
  profile: string;
  log: (msg: string) => void;
}

/** What reached NATS for one request: slot k < T is tier k+1's `priority_notified`, slot T the broadcast. */
interface Seen {
  at: number[];
  count: number[];
  /** `offer_expired` deliveries carried by its events. */
  expired: number;
}

type Body = { request: { id: string }; notify: { type: string; tier?: number }[] };

/**
 * Watches `priority_notified` and `broadcast` events. `first(slot)` and `all(slot)` fire when the
 * first and the n-th of the measured sequences reach a slot: the bounds of each phase.
 */
function observe(
  nc: NatsConnection,
  names: NatsNames,
  tiers: number,
  n: number,
  measured: Set<string>,
  on: { first(slot: number): void; all(slot: number): void },
) {
  const seen = new Map<string, Seen>();
  const reached = new Array<number>(tiers + 1).fill(0);
  let repeats = 0;
  const entry = (id: string): Seen => {
    let e = seen.get(id);
    if (!e) {
      e = { at: new Array(tiers + 1).fill(Number.NaN), count: new Array(tiers + 1).fill(0), expired: 0 };
      seen.set(id, e);
    }
    return e;
  };
  const arrived = (body: Body, slot: number, at: number) => {
    const e = entry(body.request.id);
    e.expired += body.notify.filter((d) => d.type === 'offer_expired').length;
    e.count[slot] = (e.count[slot] ?? 0) + 1;
    if (e.count[slot] > 1) {
      repeats++;
      return;
    }
    e.at[slot] = at;
    if (!measured.has(body.request.id)) return;
    reached[slot] = (reached[slot] ?? 0) + 1;
    if (reached[slot] === 1) on.first(slot);
    if (reached[slot] === n) on.all(slot);
  };
  nc.subscribe(names.subjects.event('priority_notified'), {
    callback: (_e, m) => {
      const at = Date.now();
      const body = m.json() as Body;
      const tier = body.notify.find((d) => d.type === 'priority_session_request')?.tier;
      if (tier) arrived(body, tier - 1, at);
    },
  });
  nc.subscribe(names.subjects.event('broadcast'), {
    callback: (_e, m) => arrived(m.json() as Body, tiers, Date.now()),
  });
  return { seen: (id: string) => seen.get(id), reached, repeats: () => repeats };
}

interface Phase {
  name: string;
  startedAt: number;
  endedAt: number;
  lines: string[];
}

/**
 * CPU of routing, this database's backends, all of PostgreSQL, nats-server and the bench, and
 * PostgreSQL's counters and wait events, over each phase; routing's CPU profile where asked.
 */
function phaseRecorder(ctx: SequenceContext) {
  let backends: number[] = [];
  const refresh = async () => {
    const { rows } = await ctx.pool.query(`select pid from pg_stat_activity where datname = current_database()`);
    backends = rows.map((r) => Number(r.pid));
  };
  const meter = cpuMeter([
    { name: 'routing', pids: () => [ctx.routing.pid] },
    { name: 'postgres (this database)', pids: () => backends },
    { name: 'postgres (all)', pids: () => pidsNamed('postgres') },
    { name: 'nats-server', pids: () => pidsNamed('nats-server') },
    { name: 'bench', pids: () => [process.pid] },
  ]);
  const stats = pgActivity(ctx.databaseUrl);
  const profileDir = fileURLToPath(
    new URL(`../../profiles/windows-${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url),
  );
  const running = new Map<string, Promise<(count: number) => Promise<Phase>>>();
  const pending: Promise<void>[] = [];
  const phases: Phase[] = [];
  let profiling = false;

  function begin(name: string, key: string): void {
    const wanted = ctx.profile === 'all' || ctx.profile.split(',').includes(key);
    const started = (async () => {
      const startedAt = Date.now();
      const load = loadavg()[0] ?? 0;
      await refresh();
      const cpu = meter.start();
      const pgStop = await stats.start(100);
      // One profile at a time: the inspector has one profiler.
      let profiler: Awaited<ReturnType<typeof startCpuProfile>> | null = null;
      if (wanted && ctx.routing.inspector && !profiling) {
        profiling = true;
        profiler = await startCpuProfile(await ctx.routing.inspector);
      }
      return async (count: number): Promise<Phase> => {
        const endedAt = Date.now();
        await refresh();
        const used = cpu();
        const profile = await profiler?.stop();
        const pgs = await pgStop();
        const s = (endedAt - startedAt) / 1000;
        const per = (x: number) => (x / Math.max(count, 1)).toFixed(2);
        const lines = [
          `phase ${name}: ${s.toFixed(1)} s, ${count} (${(count / s).toFixed(0)}/s), load average ${load.toFixed(2)} at its start`,
          `  CPU, % of one core: ${Object.entries(used)
            .map(([g, ms]) => `${g} ${((ms / (s * 1000)) * 100).toFixed(0)}`)
            .join(', ')}`,
          `  PostgreSQL per item: commits ${per(pgs.db.xact_commit)}, rows returned ${per(pgs.db.tup_returned)}, fetched ${per(pgs.db.tup_fetched)}, inserted ${per(pgs.db.tup_inserted)}, updated ${per(pgs.db.tup_updated)}, deleted ${per(pgs.db.tup_deleted)}, WAL ${(pgs.db.wal_bytes / Math.max(count, 1) / 1024).toFixed(2)} KiB, WAL syncs ${per(pgs.db.wal_sync)}`,
          `  PostgreSQL backends active (mean over 100 ms samples): ${
            Object.entries(pgs.avgWaiting)
              .map(([w, v]) => `${w} ${v}`)
              .join(', ') || 'none'
          }`,
          `  per table/index: ${Object.entries(pgs.tables)
            .map(
              ([t, d]) =>
                `${t} {${Object.entries(d)
                  .filter(([, v]) => v !== 0)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(' ')}}`,
            )
            .join('; ')}`,
        ];
        if (profile) {
          profiling = false;
          mkdirSync(profileDir, { recursive: true });
          const file = `${profileDir}routing-${key}.cpuprofile`;
          writeFileSync(file, JSON.stringify(profile));
          const p = summarizeProfile(profile, 15);
          lines.push(`  routing profile: ${p.busyMs} ms busy of ${Math.round(p.spanMs)} ms (${file})`);
          lines.push(`    by place: ${p.byPlace.map((x) => `${x.place} ${x.share}%`).join(', ')}`);
          for (const f of p.byFunction) lines.push(`    ${String(f.share).padStart(5)}%  ${f.fn}`);
        }
        return { name, startedAt, endedAt, lines };
      };
    })();
    running.set(name, started);
  }

  function end(name: string, count: number): void {
    const started = running.get(name);
    if (!started) return;
    running.delete(name);
    pending.push(
      started
        .then((stop) => stop(count))
        .then((p) => {
          phases.push(p);
          ctx.log(p.lines[0] as string);
        })
        .catch((err: unknown) => ctx.log(`phase ${name}: not recorded (${(err as Error).message})`)),
    );
  }

  return {
    begin,
    end,
    /** Every phase ended so far, in order of its start, once its figures are in. */
    async done(): Promise<Phase[]> {
      await Promise.all(pending);
      await stats.close();
      return phases.sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}

export async function runSequences(ctx: SequenceContext): Promise<string[]> {
  const { n, openRate, plan, store, log } = ctx;
  const T = plan.tierMinutes.length;
  const tierS = plan.tierMinutes.map((m) => (m * plan.minuteMs) / 1000);
  const slotName = (slot: number) =>
    slot === 0 ? 'filling (tier 1 offered)' : slot < T ? `tier ${slot} → ${slot + 1}` : `tier ${T} → broadcast`;
  const measured = new Set<string>();
  const recorder = phaseRecorder(ctx);
  const obs = observe(ctx.nc, ctx.names, T, n, measured, {
    first: (slot) => slot > 0 && recorder.begin(slotName(slot), String(slot)),
    all: (slot) => recorder.end(slotName(slot), n),
  });
  await ctx.nc.flush();
  const loadBefore = loadavg().map((l) => l.toFixed(2));

  // ── the sequence floor: single sequences of the shortest tiers on an idle system ─────────────
  const floorMinutes = plan.tierMinutes.map(() => Math.max(1, Math.round(1000 / plan.minuteMs)));
  log(
    `sequence floor: ${FLOOR_SEQUENCES} sequences of ${T} × ${(floorMinutes[0] ?? 1) * plan.minuteMs} ms, one at a time`,
  );
  const floorIds: string[] = [];
  for (let i = 0; i < FLOOR_SEQUENCES; i++) {
    const [id] = await store.book(1, floorMinutes);
    floorIds.push(id as string);
    await waitFor(() => (obs.seen(id as string)?.count[T] ?? 0) > 0, 60_000, 'a floor sequence to broadcast');
  }

  // ── probes: sequences booked all along (their tiers as long as the schema allows), created → offered ──
  const probes: { id: string; t0: number }[] = [];
  let probing = true;
  const probeMinutes = plan.tierMinutes.map(() => 120);
  const probeLoop = (async () => {
    while (probing) {
      const t0 = Date.now();
      const [id] = await store.book(1, probeMinutes, new Date(t0));
      probes.push({ id: id as string, t0 });
      await sleep(Math.max(0, ctx.probeEveryMs - (Date.now() - t0)));
    }
  })();

  // ── fill: N sequences at openRate; each tier then ends at openRate, after all N were open ────
  log(`filling: ${n} sequences of ${tierS.join(' + ')} s at ${openRate}/s (one minute = ${plan.minuteMs} ms)`);
  recorder.begin(slotName(0), 'fill');
  const ids: string[] = [];
  const batch = Math.max(1, Math.round(openRate / 10));
  const fillStart = Date.now();
  for (let sent = 0; sent < n; ) {
    const k = Math.min(batch, n - sent);
    for (const id of await store.book(k, plan.tierMinutes)) {
      measured.add(id);
      ids.push(id);
    }
    sent += k;
    await sleep(Math.max(0, fillStart + (sent / openRate) * 1000 - Date.now()));
    if (sent % (openRate * 10) < batch) {
      log(
        `  stored ${sent}, tier 1 offered ${obs.reached[0]}, routing RSS ${(ctx.routing.rss() / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
  await waitFor(() => (obs.reached[0] ?? 0) >= n, (tierS[0] ?? 0) * 1000, 'every tier 1 to open');
  const fillSeconds = (Date.now() - fillStart) / 1000;
  const openTiers = Number(
    (await ctx.pool.query(`select count(*) as n from session_request_offers where outcome is null`)).rows[0]?.n,
  );
  const rssOpen = ctx.routing.rss();
  log(
    `all open after ${fillSeconds.toFixed(1)} s: ${openTiers} open tiers (incl. probes); routing RSS ${(rssOpen / 2 ** 20).toFixed(0)} MiB`,
  );

  // ── every tier ends, then the broadcast ───────────────────────────────────────────────────────
  const progress = setInterval(
    () => log(`  reached: ${obs.reached.map((r, slot) => `${slotName(slot).split(' (')[0]} ${r}`).join(', ')}`),
    20_000,
  );
  try {
    const total = tierS.reduce((a, b) => a + b, 0);
    await waitFor(() => (obs.reached[T] ?? 0) >= n, (total + 600) * 1000, 'every sequence to broadcast');
  } finally {
    clearInterval(progress);
  }
  const runSeconds = (Date.now() - fillStart) / 1000;
  probing = false;
  await probeLoop;
  await sleep(3000); // let any repeat show up
  const phases = await recorder.done();
  const loadAfter = loadavg().map((l) => l.toFixed(2));

  return report(ctx, {
    ids,
    rows: await store.rows(ids),
    floorRows: await store.rows(floorIds),
    probeRows: new Map((await store.rows(probes.map((p) => p.id))).map((r) => [r.id, r])),
    probes,
    obs,
    phases,
    fillSeconds,
    runSeconds,
    openTiers,
    rssOpen,
    load: { before: loadBefore.join(' '), after: loadAfter.join(' ') },
  });
}

/** Lateness of each transition of `rows` (ms): slot k ends tier k, into tier k+1 or the broadcast. */
function transitions(rows: SequenceRow[], T: number, at: (r: SequenceRow, slot: number) => number | null) {
  return Array.from({ length: T }, (_, i) => {
    const slot = i + 1;
    return rows.map((r) => (at(r, slot) ?? Number.NaN) - (r.tiers[slot - 1]?.expires ?? Number.NaN));
  });
}

async function report(
  ctx: SequenceContext,
  r: {
    ids: string[];
    rows: SequenceRow[];
    floorRows: SequenceRow[];
    probeRows: Map<string, SequenceRow>;
    probes: { id: string; t0: number }[];
    obs: ReturnType<typeof observe>;
    phases: Phase[];
    fillSeconds: number;
    runSeconds: number;
    openTiers: number;
    rssOpen: number;
    load: { before: string; after: string };
  },
): Promise<string[]> {
  const { n, plan, floor } = ctx;
  const T = plan.tierMinutes.length;
  const slotLabel = (slot: number) => (slot < T ? `tier ${slot} → ${slot + 1}` : `tier ${T} → broadcast`);
  // When each transition was decided (DB): the next tier's offered_at, or broadcast_at.
  const decidedAt = (row: SequenceRow, slot: number) => (slot < T ? (row.tiers[slot]?.offered ?? null) : row.broadcast);
  const receivedAt = (row: SequenceRow, slot: number) => r.obs.seen(row.id)?.at[slot] ?? null;
  const decided = transitions(r.rows, T, decidedAt);
  const received = transitions(r.rows, T, receivedAt);
  const floorDecided = transitions(r.floorRows, T, decidedAt).flat();
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const row = (label: string, s: Summary, base?: Summary) =>
    `| ${label} | ${s.n} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.max)} | ${
      base ? `${ratio(s.p50, base.p50)} / ${ratio(s.p99, base.p99)} / ${ratio(s.max, base.max)}` : ''
    } |`;

  // Exactly once, in the rows: T tiers, each offered to its planned mechanic and timed out, then
  // one broadcast for the timeout; in the events: each tier's offer and the broadcast once, and
  // one offer_expired per tier.
  let rowsOnce = 0;
  let eventsOnce = 0;
  let early = 0;
  let endedApart = 0;
  for (const x of r.rows) {
    const tiersOk =
      x.tiers.length === T &&
      x.tiers.every(
        (t, i) => t.tier === i + 1 && t.outcome === 'timeout' && t.offered !== null && t.mechanic === x.planned[i],
      );
    if (tiersOk && x.broadcast !== null && x.reason === 'priority_timeout') rowsOnce++;
    const seen = r.obs.seen(x.id);
    if (seen?.count.every((c) => c === 1) && seen.expired === T) eventsOnce++;
    for (let slot = 1; slot <= T; slot++) {
      const at = decidedAt(x, slot);
      const tier = x.tiers[slot - 1];
      if (at !== null && tier?.expires != null && at < tier.expires) early++;
      if (at !== null && tier?.ended != null && tier.ended !== at) endedApart++;
    }
  }
  const jsm = await jetstreamManager(ctx.nc);
  const stored = async (kind: 'priority_notified' | 'broadcast') => {
    const info = await jsm.streams.info(ctx.names.streams.events, { subjects_filter: ctx.names.subjects.event(kind) });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  };
  // The stream first, then the rows: probe sequences (not measured) keep moving, so the rows may
  // count the few transitions made between the two reads, never fewer than the stream holds.
  const storedOffers = await stored('priority_notified');
  const storedBroadcasts = await stored('broadcast');
  const { rows: expected } = await ctx.pool.query(
    `select (select count(*) from session_request_offers where offered_at is not null)
          + (select count(*) from session_requests where routing_type = 'priority_broadcast' and priority_notified_at is not null) as offers,
            (select count(*) from session_requests where broadcast_at is not null) as broadcasts`,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${ctx.routing.port}/metrics`)).text();
  const endedVia = (via: string) =>
    Number(
      new RegExp(`routing_tier_lateness_seconds_count\\{[^}]*via="${via}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
    );

  // Probes by the phase they were booked in (a phase runs from its first transition to its n-th).
  const phaseOf = (t0: number) => r.phases.find((p) => t0 >= p.startedAt && t0 <= p.endedAt)?.name ?? 'holding';
  const probeNames = [...new Set(['filling (tier 1 offered)', 'holding', ...r.phases.map((p) => p.name)])];
  const offeredIn = (sel: { id: string; t0: number }[]) =>
    summarize(sel.map((p) => (r.probeRows.get(p.id)?.tiers[0]?.offered ?? Number.NaN) - p.t0));
  const receivedIn = (sel: { id: string; t0: number }[]) =>
    summarize(sel.map((p) => (r.obs.seen(p.id)?.at[0] ?? Number.NaN) - p.t0));

  const all = summarize(decided.flat());
  // The latest sweeps (transitions decided at one instant) and when: to line them up with what else ran then.
  const sweeps = new Map<number, { slot: number; late: number; n: number }>();
  for (const x of r.rows) {
    for (let slot = 1; slot <= T; slot++) {
      const at = decidedAt(x, slot);
      const late = (at ?? Number.NaN) - (x.tiers[slot - 1]?.expires ?? Number.NaN);
      if (at === null || !Number.isFinite(late)) continue;
      const s = sweeps.get(at) ?? { slot, late, n: 0 };
      sweeps.set(at, { slot, late: Math.max(s.late, late), n: s.n + 1 });
    }
  }
  const latest = [...sweeps]
    .sort((a, b) => b[1].late - a[1].late)
    .slice(0, 6)
    .map(
      ([at, s]) =>
        `${new Date(at).toISOString().slice(11, 23)} ${slotLabel(s.slot)} ×${s.n} up to +${s.late.toFixed(0)} ms`,
    );

  return [
    `N = ${n} sequences of ${T} tiers (${plan.tierMinutes.map((m) => (m * plan.minuteMs) / 1000).join(' + ')} s; one minute = ${plan.minuteMs} ms), opened at ${ctx.openRate}/s: all open after ${r.fillSeconds.toFixed(1)} s (${r.openTiers} open tiers at once incl. probes), every broadcast after ${r.runSeconds.toFixed(0)} s`,
    `load average (1, 5, 15 min) before the fill ${r.load.before}, after ${r.load.after}`,
    '',
    '| lateness (ms, after the ended tier’s deadline) | n | p50 | p99 | max | ratio p50 / p99 / max to the single floor |',
    '| --- | --- | --- | --- | --- | --- |',
    row('floor: single window, idle — fired (DB)', floor.fired),
    row('floor: single window, idle — new_request received', floor.delivered),
    row(`floor: ${r.floorRows.length} sequences, idle — every transition (DB)`, summarize(floorDecided), floor.fired),
    ...decided.map((l, i) => row(`${slotLabel(i + 1)} — decided (DB)`, summarize(l), floor.fired)),
    row(`every transition — decided (DB)`, all, floor.fired),
    ...received.map((l, i) =>
      row(
        `${slotLabel(i + 1)} — ${i + 1 < T ? 'priority_notified' : 'broadcast'} received`,
        summarize(l),
        floor.delivered,
      ),
    ),
    '',
    `exactly once, rows: ${rowsOnce}/${n} with ${T} tiers, each offered to its planned mechanic and timed out, then one broadcast (priority_timeout)`,
    `exactly once, events: ${eventsOnce}/${n} with each tier's priority_notified, the broadcast and ${T} offer_expired once each; repeated events ${r.obs.repeats()} (all requests); stored in the stream: priority_notified ${storedOffers} for ${expected[0]?.offers} offers in the database read just after, broadcast ${storedBroadcasts} for ${expected[0]?.broadcasts} broadcasts (incl. floors and probes)`,
    `latest sweeps (decided at, UTC; transitions; latest): ${latest.join('; ')}`,
    `transitions before the deadline: ${early}; a tier ended at another instant than its successor began: ${endedApart}; ended by: sweeper ${endedVia('sweeper')}, route ${endedVia('route')}, decline ${endedVia('decline')}`,
    '',
    '| created → offered (ms, tier 1) | n | p50 | p99 | max | |',
    '| --- | --- | --- | --- | --- | --- |',
    row(
      `all ${n} sequences, booked at ${ctx.openRate}/s — decided (DB offered_at)`,
      summarize(r.rows.map((x) => (x.tiers[0]?.offered ?? Number.NaN) - x.created)),
    ),
    row(
      `all ${n} — tier 1 priority_notified received`,
      summarize(r.rows.map((x) => (r.obs.seen(x.id)?.at[0] ?? Number.NaN) - x.created)),
    ),
    ...probeNames.flatMap((name) => {
      const sel = r.probes.filter((p) => phaseOf(p.t0) === name);
      return [row(`probes booked during ${name} — decided (DB)`, offeredIn(sel)), row(`  … received`, receivedIn(sel))];
    }),
    '',
    `routing RSS: ${(r.rssOpen / 2 ** 20).toFixed(0)} MiB with every tier 1 open, peak ${(ctx.routing.peakRss() / 2 ** 20).toFixed(0)} MiB`,
    '',
    ...r.phases.flatMap((p) => p.lines),
  ];
}
