// pnpm bench:analytics — does analytics keep pace with intake? Lifecycle events and seen acks are
// published at a constant rate to the EVENTS stream and the consumer lag of each message (published
// → acked, read off the durable consumer's ack floor) is measured for the real analytics process
// and for a baseline consumer that only acks, each in its own process, in one run.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type Delivery,
  EVENT_VERSION,
  type EventKind,
  natsNames,
  priorityMessage,
  type RequestEvent,
  type SeenEvent,
  type SessionRequest,
  seenMessageId,
} from '@dibs/contracts';
import { connectNats, ensureConsumer, provisionStreams } from '@dibs/nats';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import pg from 'pg';
import { benchDatabase } from './lib/bench-db.js';
import { percentile, ratio } from './stats.js';

// Session requests per second, each ~3.5 events and ~0.7 seen acks. 1500 is above intake's measured maximum
// (~1050 req/s in bench:intake on the 2-core dev machine); set BENCH_RATE to compare with yours.
const RATE = Number(process.env.BENCH_RATE ?? 1500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SAMPLE_MS = 20;
// The share of requests whose priority offer the preferred mechanic's app acks (a seen ack each).
const SEEN = Number(process.env.BENCH_SEEN ?? 0.7);
// Another build's analytics (its dist/main.js), measured in alternating rounds beside this one's:
// a before/after pair under the same load. Run it with BENCH_SEEN=0 when that build predates acks.
const COMPARE = process.env.BENCH_COMPARE_MAIN;
const NATS_URL = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',');

if (process.argv.includes('--baseline-consumer')) await baselineConsumer();
else await main();

/** The baseline: the same durable consumer settings, every message acked on arrival, nothing else. */
async function baselineConsumer(): Promise<void> {
  const names = natsNames(process.env.NATS_PREFIX as string);
  const nc = await connectNats({ servers: NATS_URL, name: 'bench-baseline' });
  const js = jetstream(nc);
  await ensureConsumer(await js.jetstreamManager(), names.streams.events, consumerConfig(names));
  const consumer = await js.consumers.get(names.streams.events, names.consumers.analytics);
  await consumer.consume({ max_messages: 1000, callback: (m) => m.ack() });
  process.on('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
}

// As services/analytics/src/handlers/event-projector.ts creates it.
function consumerConfig(names: ReturnType<typeof natsNames>) {
  return {
    durable_name: names.consumers.analytics,
    filter_subject: names.subjects.eventsAll,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: 10_000,
    max_deliver: -1,
  };
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const nc = await connectNats({ servers: NATS_URL, name: 'bench-analytics' });
  const jsm = await jetstreamManager(nc);
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
  const runs: Record<Consumer, string[]> = {
    baseline: [here('./analytics.js'), '--baseline-consumer'],
    analytics: [here('../../services/analytics/dist/main.js')],
    compare: COMPARE ? [COMPARE] : [],
  };
  const consumers: Consumer[] = COMPARE ? ['baseline', 'analytics', 'compare'] : ['baseline', 'analytics'];
  type Result = Awaited<ReturnType<typeof measure>>;
  const results: Record<Consumer, Result[]> = { baseline: [], analytics: [], compare: [] };
  try {
    // Alternating rounds, so a burst of load from elsewhere on the machine hits each alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of consumers) results[name].push(await measure(name, runs[name]));
    }
  } finally {
    await nc.drain();
    await db.drop();
  }
  const row = (name: string, r: Result) =>
    `| ${name} | ${r.events} | ${Math.round(r.eventsPerSecond)} | ${r.lag.p50} | ${r.lag.p99} | ${r.lag.max} |`;
  console.log(
    `\nbench:analytics — ${RATE} requests/s (~3.5 events and ~${SEEN} seen acks each) for ${SECONDS}s, ${ROUNDS} alternating rounds, lag sampled every ${SAMPLE_MS} ms\n`,
  );
  console.log('| consumer | messages | messages/s published | lag p50 ms | lag p99 ms | lag max ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (let round = 0; round < ROUNDS; round++) {
    console.log(row(`baseline (ack only), round ${round + 1}`, results.baseline[round]!));
    console.log(row(`analytics, round ${round + 1}`, results.analytics[round]!));
    if (COMPARE) console.log(row(`compare (${COMPARE}), round ${round + 1}`, results.compare[round]!));
  }
  const median = (xs: number[]) => percentile(xs, 50);
  const b = {
    p50: median(results.baseline.map((r) => r.lag.p50)),
    p99: median(results.baseline.map((r) => r.lag.p99)),
  };
  const a = {
    p50: median(results.analytics.map((r) => r.lag.p50)),
    p99: median(results.analytics.map((r) => r.lag.p99)),
  };
  console.log(
    `\nmedian over rounds: baseline p50 ${b.p50} ms, p99 ${b.p99} ms; analytics p50 ${a.p50} ms, p99 ${a.p99} ms`,
  );
  console.log(`lag ratio analytics/baseline: p50 ${ratio(a.p50, b.p50)}, p99 ${ratio(a.p99, b.p99)}`);
  if (COMPARE) {
    const c = {
      p50: median(results.compare.map((r) => r.lag.p50)),
      p99: median(results.compare.map((r) => r.lag.p99)),
    };
    console.log(
      `compare: p50 ${c.p50} ms, p99 ${c.p99} ms; ratio analytics/compare p50 ${ratio(a.p50, c.p50)}, p99 ${ratio(a.p99, c.p99)}`,
    );
  }
  console.log(
    `analytics lag p99 ${a.p99} ms (goal ≤ 1000 ms); every event found in the read model's ledger, every ack in its seen facts`,
  );

  async function measure(name: string, args: string[]) {
    // A fresh read model per round.
    await sql(
      db.url,
      'truncate analytics_request_facts, analytics_events, analytics_offer_facts, analytics_seen_facts',
    );
    const prefix = `bench_${name}_${randomUUID().slice(0, 8)}`;
    const names = natsNames(prefix);
    await provisionStreams(jsm, names);
    // BENCH_NODE_ARGS (e.g. "--cpu-prof") go to the consumer processes, to profile them.
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DATABASE_URL: db.url, NATS_PREFIX: prefix, ANALYTICS_PORT: '0', LOG_LEVEL: 'warn' },
    });
    try {
      await waitForConsumer(jsm, names, child);
      const sampler = sampleAckFloor(jsm, names);
      const { sentAt, lastSeq, events, acks, seconds } = await publishAtRate(prefix);
      const lag = await sampler.lags(sentAt, lastSeq);
      // A compared build may predate acks: its ledger is checked, not its seen facts.
      if (name !== 'baseline') await checkProjected(db.url, events, name === 'analytics' ? acks : null);
      return { events: events + acks, eventsPerSecond: (events + acks) / seconds, lag: summary(lag) };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      for (const s of Object.values(names.streams)) await jsm.streams.delete(s).catch(() => undefined);
    }
  }
}

type Consumer = 'baseline' | 'analytics' | 'compare';

async function waitForConsumer(jsm: JetStreamManager, names: ReturnType<typeof natsNames>, child: ChildProcess) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`consumer process exited with ${child.exitCode}`);
    const info = await jsm.consumers.info(names.streams.events, names.consumers.analytics).catch(() => undefined);
    if (info && info.num_waiting > 0) return;
    await sleep(50);
  }
  throw new Error('consumer did not start within 30 s');
}

/** Publishes whole request lifecycles at RATE requests/s; returns each stream sequence's publish time. */
async function publishAtRate(prefix: string) {
  const names = natsNames(prefix);
  const nc = await connectNats({ servers: NATS_URL, name: 'bench-publisher' });
  const js = jetstream(nc);
  const sentAt = new Map<number, number>();
  const mechanics = Array.from({ length: 50 }, () => randomUUID());
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let requests = 0;
  let events = 0;
  let acks = 0;
  const send = (subject: string, body: string, msgID: string) => {
    const t = performance.now();
    inflight.push(js.publish(subject, body, { msgID }).then((ack) => void sentAt.set(ack.seq, t)));
  };
  while (performance.now() - start < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (; requests < due; requests++) {
      for (const m of lifecycle(mechanics)) {
        const now = new Date().toISOString();
        if ('kind' in m) {
          send(names.subjects.event(m.kind), JSON.stringify({ ...m, occurred_at: now }), m.id);
          events++;
        } else {
          send(names.subjects.seen, JSON.stringify({ ...m, seen_at: now }), seenMessageId(m.request_id, m.mechanic_id));
          acks++;
        }
      }
    }
    if (inflight.length > 2000) await Promise.all(inflight.splice(0));
    await sleep(5);
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  await nc.drain();
  let lastSeq = 0;
  for (const seq of sentAt.keys()) lastSeq = Math.max(lastSeq, seq);
  return { sentAt, lastSeq, events, acks, seconds };
}

/**
 * Samples the consumer's ack floor every SAMPLE_MS while publishing runs, noting when each
 * stream sequence was first covered; a message's lag is that moment minus its publish time.
 */
function sampleAckFloor(jsm: JetStreamManager, names: ReturnType<typeof natsNames>) {
  const ackedAt = new Map<number, number>();
  let floor = 0;
  let target = Number.POSITIVE_INFINITY;
  const done = (async () => {
    let deadline = Number.POSITIVE_INFINITY;
    while (floor < target) {
      // The 120 s allowance starts once publishing has ended (target known).
      if (deadline === Number.POSITIVE_INFINITY && target !== Number.POSITIVE_INFINITY)
        deadline = performance.now() + 120_000;
      if (performance.now() > deadline)
        throw new Error(`consumer still behind 120 s after publishing (${floor}/${target})`);
      const info = await jsm.consumers.info(names.streams.events, names.consumers.analytics);
      const now = performance.now();
      for (let s = floor + 1; s <= info.ack_floor.stream_seq; s++) ackedAt.set(s, now);
      floor = Math.max(floor, info.ack_floor.stream_seq);
      await sleep(SAMPLE_MS);
    }
  })();
  done.catch(() => undefined); // surfaced by lags()
  return {
    /** Waits until every sequence up to `lastSeq` is acked; returns the lag of each, in ms. */
    async lags(sentAt: Map<number, number>, lastSeq: number): Promise<number[]> {
      target = lastSeq;
      await done;
      return [...sentAt].map(([seq, t]) => Math.round((ackedAt.get(seq) as number) - t));
    },
  };
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text)).rows;
  } finally {
    await c.end();
  }
}

/** Every published event is in the ledger, every ack in the seen facts (one per request and mechanic). */
async function checkProjected(url: string, events: number, acks: number | null): Promise<void> {
  const [row] = await sql<{ events: number; acks: number }>(
    url,
    `select (select count(*) from analytics_events)::int as events, (select count(*) from analytics_seen_facts)::int as acks`,
  );
  if (row?.events !== events || (acks !== null && row.acks !== acks)) {
    throw new Error(`analytics holds ${row?.events} events and ${row?.acks} acks; ${events} and ${acks} published`);
  }
}

/**
 * One request's messages: created, priority offer (most of them seen by the preferred mechanic's
 * app), then accepted (priced), or a fallback broadcast and accepted. Half are enrolled in an
 * experiment arm, as with one active experiment.
 */
function lifecycle(mechanics: string[]): (RequestEvent | SeenEvent)[] {
  const preferred = mechanics[Math.floor(Math.random() * mechanics.length)] as string;
  const now = new Date().toISOString();
  let request: SessionRequest = {
    id: randomUUID(),
    customer_id: randomUUID(),
    customer_name: 'Bench Customer',
    customer_email: null,
    session_type: 'video',
    plan_code: 'basic',
    status: 'pending',
    routing_type: 'priority_broadcast',
    preferred_mechanic_id: preferred,
    preferred_workshop_id: null,
    priority_window_minutes: 10,
    priority_notified_at: null,
    priority_expires_at: null,
    broadcast_at: null,
    fallback_reason: null,
    mechanic_id: null,
    accepted_at: null,
    cancelled_at: null,
    created_at: now,
    offers: [],
    current_tier: null,
    experiment: Math.random() < 0.5 ? { key: 'bench', arm: Math.random() < 0.5 ? 'short' : 'long' } : null,
  };
  const out: (RequestEvent | SeenEvent)[] = [];
  // Each event carries the notifications routing puts in it, so the consumer parses what it would.
  const emit = (kind: EventKind, change: Partial<SessionRequest>, notify: Delivery[], actor: string | null = null) => {
    request = { ...request, ...change };
    out.push({
      v: EVENT_VERSION,
      id: randomUUID(),
      kind,
      occurred_at: now,
      request,
      actor_mechanic_id: actor,
      notify,
      price: kind === 'accepted' ? { cents: 1500, currency: 'EUR' } : null,
    });
  };
  const update: Delivery = { type: 'request_update' };
  emit('created', {}, []);
  emit('priority_notified', { priority_notified_at: now, priority_expires_at: now }, [
    {
      type: 'priority_session_request',
      mechanic_id: preferred,
      priority_window_minutes: 10,
      expires_at: now,
      tier: 1,
      message: priorityMessage('Bench Customer', 10),
    },
    update,
  ]);
  if (Math.random() < SEEN) {
    out.push({
      v: EVENT_VERSION,
      request_id: request.id,
      mechanic_id: preferred,
      offer: 'priority',
      tier: 1,
      seen_at: now,
    });
  }
  let winner = preferred;
  if (Math.random() < 0.5) {
    emit('broadcast', { broadcast_at: now, fallback_reason: 'priority_timeout' }, [
      { type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: [] },
      update,
    ]);
    winner = mechanics[Math.floor(Math.random() * mechanics.length)] as string;
  }
  const taken: Delivery = { type: 'request_taken', mechanic_id: winner === preferred ? null : preferred };
  emit('accepted', { status: 'accepted', mechanic_id: winner, accepted_at: now }, [taken, update], winner);
  return out;
}

// stats.summarize spreads the sample into Math.max, too deep a call for 100k+ samples.
function summary(values: number[]) {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: values.reduce((a, b) => Math.max(a, b), 0) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
