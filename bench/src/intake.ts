// pnpm bench:intake — POST /v1/session-requests under constant-rate load vs. a bare Fastify route
// doing the same INSERT (row + outbox event, one statement) with the same pool, in one run.
import { randomUUID } from 'node:crypto';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import { natsNames } from '@dibs/contracts';
import { createOrm, newSessionRequestRecord, requestEvent, toSessionRequest } from '@dibs/db';
import { bookingStatement, buildIntake } from '@dibs/intake';
import { loadIntakeConfig } from '@dibs/intake/config';
import { createLogger } from '@dibs/logger';
import { connectNats, provisionStreams } from '@dibs/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { benchDatabase, deleteNatsPrefix } from './lib/bench-db.js';
import { ratio } from './stats.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const POOL = Number(process.env.BENCH_POOL ?? 20);

const db = await benchDatabase();
const prefix = `bench_${randomUUID().slice(0, 8)}`;
const logger = createLogger({ service: 'bench', level: 'warn', pretty: false });
const config = loadIntakeConfig({
  DATABASE_URL: db.url,
  NATS_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  INTAKE_DB_POOL: String(POOL),
});
const orm = await createOrm({ url: db.url, poolMax: POOL });
const nc = await connectNats({ servers: config.NATS_URL, name: 'bench-intake' });
const jsm = await jetstreamManager(nc);
await provisionStreams(jsm, natsNames(prefix));

const intake = await buildIntake({ config, jwtSecret: DEV_JWT_SECRET, orm, nc, logger });
await intake.app.listen({ port: 0, host: '127.0.0.1' });
const admin = await createTokenService(DEV_JWT_SECRET).sign({ sub: randomUUID(), role: 'admin' });
const customer = await intake.app.inject({
  method: 'POST',
  url: '/v1/admin/customers',
  headers: { authorization: `Bearer ${admin}` },
  payload: { name: 'Bench Customer', email: `bench-${randomUUID()}@example.com` },
});
const customerId = customer.json().id as string;
const token = await createTokenService(DEV_JWT_SECRET).sign({ sub: customerId, role: 'customer' }, 3600);

// The baseline: no auth, no validation, no response schema, the same statement on a pool of the same size.
const bare = Fastify({ logger: false });
// The same pool size as intake's booking pool (INTAKE_DB_POOL).
const sql = new pg.Pool({ connectionString: db.url, max: POOL });
bare.post('/bare', async (_request, reply) => {
  const now = new Date();
  const id = randomUUID();
  const record = newSessionRequestRecord({
    id,
    customer_id: customerId,
    customer_name: 'Bench Customer',
    session_type: 'video',
    plan_code: 'basic',
    routing_type: 'broadcast',
    priority_window_minutes: 10,
    created_at: now,
  });
  const event = requestEvent('created', toSessionRequest(record), { at: now });
  await sql.query(bookingStatement(record, { key: null, hash: 'x' }, event));
  return reply.code(201).send(record);
});
await bare.listen({ port: 0, host: '127.0.0.1' });

const body = JSON.stringify({ session_type: 'video', plan_code: 'basic' });
const targets = {
  intake: {
    url: `http://127.0.0.1:${(intake.app.server.address() as { port: number }).port}/v1/session-requests`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  },
  bare: {
    url: `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/bare`,
    headers: { 'content-type': 'application/json' },
  },
};

async function load(target: keyof typeof targets, overallRate?: number) {
  const r = await autocannon({
    ...targets[target],
    method: 'POST',
    body,
    connections: CONNECTIONS,
    duration: DURATION,
    workers: 1,
    ...(overallRate ? { overallRate } : {}),
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${target}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

// Warm both (JIT, pool), then alternate the two targets for several rounds and keep the median,
// so load from other processes on a shared machine hits both alike.
await load('bare');
await load('intake');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (runs: { rps: number; p50: number; p99: number }[]) => {
  const pick = (k: 'rps' | 'p50' | 'p99') => [...runs].sort((a, b) => a[k] - b[k])[Math.floor(runs.length / 2)]![k];
  return { rps: pick('rps'), p50: pick('p50'), p99: pick('p99') };
};
const maxRuns = { bare: [] as Awaited<ReturnType<typeof load>>[], intake: [] as Awaited<ReturnType<typeof load>>[] };
for (let i = 0; i < ROUNDS; i++) {
  maxRuns.bare.push(await load('bare'));
  maxRuns.intake.push(await load('intake'));
}
const maxBare = median(maxRuns.bare);
const maxIntake = median(maxRuns.intake);
const half = Math.round(maxBare.rps / 2);
const halfRuns = { bare: [] as Awaited<ReturnType<typeof load>>[], intake: [] as Awaited<ReturnType<typeof load>>[] };
for (let i = 0; i < ROUNDS; i++) {
  halfRuns.bare.push(await load('bare', half));
  halfRuns.intake.push(await load('intake', half));
}
const atHalfBare = median(halfRuns.bare);
const atHalfIntake = median(halfRuns.intake);
await intake.relay?.flush();

const row = (name: string, r: { rps: number; p50: number; p99: number }) =>
  `| ${name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} |`;
console.log(
  `\nbench:intake — median of ${ROUNDS} alternating rounds, ${DURATION}s per run, ${CONNECTIONS} connections, pool ${POOL}\n`,
);
console.log('| run | req/s | p50 ms | p99 ms |\n| --- | --- | --- | --- |');
console.log(row('bare route, max rate', maxBare));
console.log(row('intake, max rate', maxIntake));
console.log(row(`bare route @ ${half} req/s`, atHalfBare));
console.log(row(`intake @ ${half} req/s`, atHalfIntake));
console.log(`\nthroughput ratio intake/bare: ${ratio(maxIntake.rps, maxBare.rps)} (goal ≥ 0.75)`);
console.log(`p99 ratio at half the bare max: ${ratio(atHalfIntake.p99, atHalfBare.p99)} (goal ≤ 1.5)`);

await bare.close();
await intake.close();
await orm.close();
await sql.end();
await deleteNatsPrefix(nc, prefix);
await nc.drain();
await db.drop();
