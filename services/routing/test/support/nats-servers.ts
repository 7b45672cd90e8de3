import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

// nats-servers of a test's own, on free loopback ports (never the shared server on 4222): a single
// server to restart, or a JetStream cluster to take nodes away from.

/** `n` distinct free loopback ports (all held open at once, so none is handed out twice). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

/** One nats-server of this test's own (never the shared one): fixed ports, a store kept across restarts. */
export interface NatsNode {
  /** Its server name (`-n`): what JetStream names as a stream's or a consumer's leader. */
  name: string;
  url: string;
  running(): boolean;
  /** Starts it (again, after `stop` or `kill`) on the same ports and store. */
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; its store is left as the crash left it. */
  kill(): Promise<void>;
}

function natsNode(binary: string, name: string, port: number, args: string[]): NatsNode {
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const end = async (signal: NodeJS.Signals) => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
    proc = undefined;
  };
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    running: () => proc !== undefined,
    async start() {
      const p = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-n', name, ...args], { stdio: 'ignore' });
      proc = p;
      exited = new Promise((resolve) => p.on('exit', () => resolve()));
      await waitForPort(port);
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** A single nats-server with JetStream on a private store. */
export interface PrivateNats extends NatsNode {
  /** Stops it for good and deletes its store. */
  destroy(): Promise<void>;
}

export async function startPrivateNats(binary = '/usr/sbin/nats-server'): Promise<PrivateNats> {
  const storeDir = mkdtempSync(path.join(tmpdir(), 'routing-nats-'));
  const [port] = await freePorts(1);
  const node = natsNode(binary, `routing-${randomBytes(3).toString('hex')}`, port!, ['-js', '-sd', storeDir]);
  const api: PrivateNats = {
    ...node,
    async destroy() {
      await node.kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await api.start();
  return api;
}

/** A JetStream cluster of this test's own: nodes routed to each other on loopback, each with its own store. */
export interface PrivateNatsCluster {
  /** Every node's client URL, to connect to the cluster as a whole. */
  urls: string[];
  nodes: NatsNode[];
  node(name: string): NatsNode;
  /** Kills every node and deletes every store. */
  destroy(): Promise<void>;
}

/**
 * Starts `size` nats-servers as one JetStream cluster and waits until it can place an R`size`
 * stream. Whatever fails part-way, the nodes already started are killed.
 */
export async function startNatsCluster(size = 3, binary = '/usr/sbin/nats-server'): Promise<PrivateNatsCluster> {
  const clusterName = `routing-${randomBytes(3).toString('hex')}`;
  const ports = await freePorts(2 * size);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `${clusterName}-n${i + 1}`,
    port: ports[2 * i]!,
    clusterPort: ports[2 * i + 1]!,
    storeDir: mkdtempSync(path.join(tmpdir(), 'routing-nats-cluster-')),
  }));
  const nodes = specs.map((spec) => {
    const routes = specs.filter((other) => other !== spec).map((other) => `nats://127.0.0.1:${other.clusterPort}`);
    return natsNode(binary, spec.name, spec.port, [
      ...['-js', '-sd', spec.storeDir, '--cluster_name', clusterName],
      ...['--cluster', `nats://127.0.0.1:${spec.clusterPort}`, '--routes', routes.join(',')],
    ]);
  });
  const cluster: PrivateNatsCluster = {
    urls: nodes.map((n) => n.url),
    nodes,
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no node ${name} in ${nodes.map((n) => n.name).join(', ')}`);
      return found;
    },
    async destroy() {
      await Promise.all(nodes.map((n) => n.kill()));
      for (const spec of specs) rmSync(spec.storeDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await jetStreamReady(cluster.urls, 20_000);
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

/**
 * Polls until the servers at `urls` can place a stream on all of them: `$JS.API.INFO` answers as
 * soon as there is a meta leader, but a replicated stream also needs every peer to have reported
 * in, so the probe is adding (and deleting) a small R`urls.length` stream.
 */
async function jetStreamReady(urls: string[], timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: urls, timeout: 5000 });
  const deadline = Date.now() + timeoutMs;
  const probe = `ready_${randomBytes(4).toString('hex')}`;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.streams.add({
          name: probe,
          subjects: [`${probe}.>`],
          storage: StorageType.Memory,
          num_replicas: urls.length,
        });
        await jsm.streams.delete(probe);
        return;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no JetStream cluster on ${urls.join(',')} after ${timeoutMs} ms: ${(last as Error)?.message}`);
  } finally {
    await nc.close();
  }
}
