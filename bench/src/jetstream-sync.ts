// pnpm bench:jetstream-sync — what `sync_interval: always` (deploy/nats/values.yaml) costs dibs'
// publishes: two private 3-node clusters of one nats-server binary, one with the default fsync
// policy (every 2 minutes; 1 minute before 2.10), one with `jetstream { sync_interval: always }`,
// each with an R3 file stream like EVENTS. Publish → ack latency p50/p99 and throughput with 1 and
// 32 concurrent publishers (1 KiB messages with a Nats-Msg-Id, as the outbox publishes), and the
// ratio always/default, in the same run.
//
// nats-server < 2.10 has no `sync_interval`: the bench says so, measures the default cluster and
// this disk's fsync latency, and prints the bound that follows for `always` instead of a measured
// ratio. BENCH_NATS_SERVER=/path/to/nats-server picks another binary.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { acceptsJetStreamOption, type BenchCluster, serverVersion, startBenchCluster } from './lib/nats-cluster.js';
import { ratio, summarize } from './stats.js';

const BINARY = process.env.BENCH_NATS_SERVER ?? '/usr/sbin/nats-server';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const PUBLISHERS = [1, 32];
const PAYLOAD = Buffer.alloc(Number(process.env.BENCH_PAYLOAD_BYTES ?? 1024), 'x');
/** Where the clusters keep their stores and the fsync probe writes: the disk being measured. */
const STORE_DIR = process.env.BENCH_STORE_DIR ?? tmpdir();
const STREAM = 'BENCH_SYNC';

const log = (msg: string) => process.stderr.write(`[bench:jetstream-sync] ${msg}\n`);

interface Run {
  publishers: number;
  rate: number;
  p50: number;
  p99: number;
}

/** Publishes for `seconds` from `publishers` concurrent loops on one connection; latency per ack. */
async function publishFor(url: string, publishers: number, seconds: number): Promise<Run> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc, { timeout: 10_000 });
  const latencies: number[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: publishers }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        await js.publish(`${STREAM}.event`, PAYLOAD, { msgID: `${run}-${n++}` });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await nc.close();
  const s = summarize(latencies);
  return { publishers, rate: latencies.length / elapsed, p50: s.p50, p99: s.p99 };
}

/** Creates the R3 stream and returns the URL of the node leading it (publishers connect there). */
async function prepare(cluster: BenchCluster): Promise<string> {
  const nc = await connect({ servers: [...cluster.urls.values()] });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: STREAM,
      subjects: [`${STREAM}.>`],
      storage: StorageType.File,
      num_replicas: 3,
      duplicate_window: 120 * 1e9,
    });
    const leader = (await jsm.streams.info(STREAM)).cluster?.leader;
    const url = leader && cluster.urls.get(leader);
    if (!url) throw new Error(`no leader for ${STREAM}`);
    return url;
  } finally {
    await nc.close();
  }
}

async function measure(url: string, publishers: number): Promise<Run> {
  await publishFor(url, publishers, WARMUP_SECONDS);
  return publishFor(url, publishers, SECONDS);
}

/** Latency of appending 1 KiB to a file and fsyncing it (what nats-server's `Sync()` does), on STORE_DIR's disk. */
function fsyncLatency(samples = 2000): { p50: number; p99: number } {
  const dir = mkdtempSync(path.join(STORE_DIR, 'bench-fsync-'));
  const fd = openSync(path.join(dir, 'probe'), 'a');
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      writeSync(fd, PAYLOAD);
      fsyncSync(fd);
      latencies.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  const s = summarize(latencies);
  return { p50: s.p50, p99: s.p99 };
}

// statfs(2) magic numbers of the usual filesystems.
const FILESYSTEMS = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
]);
const fsType = statfsSync(STORE_DIR).type;
const fsName = FILESYSTEMS.get(fsType) ?? `0x${fsType.toString(16)}`;
if (fsName === 'tmpfs') log(`${STORE_DIR} is tmpfs: fsync costs nothing there; set BENCH_STORE_DIR to a real disk`);

const version = serverVersion(BINARY);
const supported = acceptsJetStreamOption(BINARY, 'sync_interval: always');
console.log(
  `nats-server ${version} (${BINARY}); stores in ${STORE_DIR} (${fsName}); ${SECONDS} s per run after ${WARMUP_SECONDS} s of warm-up`,
);

const fsync = fsyncLatency();
const clusters: BenchCluster[] = [];
try {
  const base = await startBenchCluster({ binary: BINARY, baseDir: STORE_DIR });
  clusters.push(base);
  const always = supported
    ? await startBenchCluster({ binary: BINARY, baseDir: STORE_DIR, jetstream: 'sync_interval: always' })
    : undefined;
  if (always) clusters.push(always);
  const baseUrl = await prepare(base);
  const alwaysUrl = always && (await prepare(always));

  const rows: { label: string; run: Run }[] = [];
  const pairs: { publishers: number; base: Run; always?: Run }[] = [];
  for (const publishers of PUBLISHERS) {
    // Alternated per load, so both policies see the same machine.
    const b = await measure(baseUrl, publishers);
    rows.push({ label: 'default', run: b });
    const a = alwaysUrl ? await measure(alwaysUrl, publishers) : undefined;
    if (a) rows.push({ label: 'sync_interval: always', run: a });
    pairs.push({ publishers, base: b, ...(a ? { always: a } : {}) });
  }

  const f = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));
  console.log(`\n3 nodes on one host, R3 file stream, ${PAYLOAD.length} B messages with a Nats-Msg-Id\n`);
  console.log('| policy | publishers | msgs/s | ack p50 ms | ack p99 ms |\n| --- | --- | --- | --- | --- |');
  for (const { label, run } of rows) {
    console.log(`| ${label} | ${run.publishers} | ${run.rate.toFixed(0)} | ${f(run.p50)} | ${f(run.p99)} |`);
  }
  console.log(`\nfsync of a 1 KiB append on ${STORE_DIR} (${fsName}): p50 ${f(fsync.p50)} ms, p99 ${f(fsync.p99)} ms`);

  if (supported) {
    for (const { publishers, base: b, always: a } of pairs) {
      if (!a) continue;
      console.log(
        `always/default, ${publishers} publisher(s): throughput ${ratio(a.rate, b.rate)}, ` +
          `p50 ${ratio(a.p50, b.p50)}, p99 ${ratio(a.p99, b.p99)}`,
      );
    }
  } else {
    // nats-server 2.10–2.14 with sync_interval: always: the leader's Raft log append, then a
    // follower's, then the leader's stream block write are each fsynced before the ack, and the
    // stream's block writes (one per message) are fsynced one after another.
    console.log(`\nnats-server ${version} has no \`sync_interval\` (added in 2.10.0): \`always\` not measured.`);
    console.log('Bound for `always` on this disk (2.10–2.14: three fsyncs before each ack, one per stored message):');
    for (const { publishers, base: b } of pairs) {
      const p50 = b.p50 + 3 * fsync.p50;
      // No faster than the default, than one message per fsync, or than each publisher's acks allow.
      const rate = Math.min(b.rate, 1000 / fsync.p50, (publishers * 1000) / p50);
      console.log(
        `- ${publishers} publisher(s): ack p50 ≥ ${f(p50)} ms (≥ ${ratio(p50, b.p50)}× default), ` +
          `throughput ≤ ${rate.toFixed(0)} msgs/s (≤ ${ratio(rate, b.rate)}× default)`,
      );
    }
  }
} finally {
  await Promise.all(clusters.map((c) => c.destroy()));
}
