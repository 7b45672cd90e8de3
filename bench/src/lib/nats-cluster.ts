// Private nats-server clusters for benchmarks: nodes on free loopback ports, each with its own store
// and config file (JetStream options such as sync_interval have no command-line flag). Never the
// shared server on 4222.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, sleep } from './windows-support.js';

export interface BenchCluster {
  /** Client URL of each node, by server name. */
  urls: Map<string, string>;
  /** Kills every node and deletes its stores. */
  destroy(): Promise<void>;
}

/** `nats-server --version` of `binary`, e.g. `v2.9.10`. */
export function serverVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return (out.stdout || out.stderr).trim().replace(/^nats-server:\s*/, '');
}

/** Whether `binary` accepts `jetstream { <option> }` in a config file (`nats-server -t` checks it). */
export function acceptsJetStreamOption(binary: string, option: string): boolean {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-nats-check-'));
  try {
    const file = path.join(dir, 'check.conf');
    writeFileSync(file, `jetstream { store_dir: "${dir}", ${option} }\n`);
    return spawnSync(binary, ['-t', '-c', file], { encoding: 'utf8' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts `size` nats-servers as one JetStream cluster, stores under `baseDir`, with `jetstream`
 * added to each node's `jetstream { … }` block, and waits until it can place an R`size` stream.
 */
export async function startBenchCluster(opts: {
  binary: string;
  baseDir: string;
  size?: number;
  jetstream?: string;
}): Promise<BenchCluster> {
  const size = opts.size ?? 3;
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(path.join(opts.baseDir, `${name}-`));
  const nodes: { name: string; port: number; clusterPort: number }[] = [];
  for (let i = 1; i <= size; i++)
    nodes.push({ name: `${name}-n${i}`, port: await freePort(), clusterPort: await freePort() });
  const procs: ChildProcess[] = [];
  const cluster: BenchCluster = {
    urls: new Map(nodes.map((n) => [n.name, `nats://127.0.0.1:${n.port}`])),
    async destroy() {
      await Promise.all(
        procs.map((p) =>
          p.exitCode === null && p.signalCode === null
            ? new Promise((resolve) => p.once('exit', resolve).kill('SIGKILL'))
            : undefined,
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const node of nodes) {
      const store = path.join(dir, node.name);
      mkdirSync(store);
      const routes = nodes.filter((o) => o !== node).map((o) => `"nats://127.0.0.1:${o.clusterPort}"`);
      const file = path.join(dir, `${node.name}.conf`);
      writeFileSync(
        file,
        [
          `server_name: "${node.name}"`,
          `listen: "127.0.0.1:${node.port}"`,
          `jetstream { store_dir: "${store}" ${opts.jetstream ?? ''} }`,
          `cluster { name: "${name}", listen: "127.0.0.1:${node.clusterPort}", routes: [${routes.join(', ')}] }`,
        ].join('\n'),
      );
      procs.push(spawn(opts.binary, ['-c', file], { stdio: 'ignore' }));
    }
    await clusterReady([...cluster.urls.values()], size);
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

/** Polls until an R`size` stream can be placed (every peer has reported to the meta leader). */
async function clusterReady(urls: string[], size: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: urls, timeout: 2000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        const probe = `ready_${randomBytes(4).toString('hex')}`;
        await jsm.streams.add({
          name: probe,
          subjects: [`${probe}.>`],
          storage: StorageType.Memory,
          num_replicas: size,
        });
        await jsm.streams.delete(probe);
        return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`no JetStream cluster on ${urls.join(',')} after ${timeoutMs} ms: ${(last as Error)?.message}`);
}
