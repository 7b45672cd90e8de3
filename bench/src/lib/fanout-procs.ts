import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Resident memory of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

export interface ServiceChild {
  child: ChildProcess;
  url: string;
  /** The process's inspector (it runs with --inspect so the bench can force a GC). */
  inspector: Promise<string>;
  /** Lines the process wrote (stdout or stderr) containing `needle`, counted from the first call with it. */
  linesWith(needle: string): number;
  stop(): Promise<void>;
}

// Every server runs with an inspector on a random port: the bench forces a full GC through it
// before reading memory, so garbage from handshakes is not counted as memory per connection.
const INSPECT = '--inspect=127.0.0.1:0';

function inspectorUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let seen = '';
    const onData = (c: Buffer) => {
      seen += c.toString();
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(seen)?.[1];
      if (url) {
        child.stderr?.off('data', onData);
        resolve(url);
      }
    };
    child.stderr?.on('data', onData);
  });
}

/** Forces a full GC in the process behind `inspector`, then reads its heap and RSS. */
export async function memoryAfterGc(inspector: string, pid: number): Promise<{ heap: number; rss: number }> {
  const ws = new WebSocket(inspector);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 1;
  const call = (method: string) =>
    new Promise<Record<string, number>>((resolve) => {
      const id = next++;
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { id?: number; result?: Record<string, number> };
        if (msg.id === id) {
          ws.off('message', onMessage);
          resolve(msg.result ?? {});
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const usage = await call('Runtime.getHeapUsage');
  ws.close();
  return { heap: usage.usedSize ?? Number.NaN, rss: rssOf(pid) };
}

/** Starts `services/<name>/dist/main.js` as its own process and waits for its probe. */
export async function startServiceProcess(
  name: 'intake' | 'routing' | 'notification' | 'analytics',
  env: Record<string, string>,
  port: number,
  probe = '/readyz',
): Promise<ServiceChild> {
  let output = '';
  const counted = new Map<string, number>();
  let partial = '';
  const child = spawn(process.execPath, [INSPECT, `${root}services/${name}/dist/main.js`], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-5000);
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines)
      for (const needle of counted.keys())
        if (line.includes(needle)) counted.set(needle, (counted.get(needle) ?? 0) + 1);
  };
  const inspector = inspectorUrl(child);
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${output}`);
    const ok = await fetch(`${url}${probe}`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    inspector,
    linesWith(needle) {
      if (!counted.has(needle)) counted.set(needle, 0);
      return counted.get(needle) ?? 0;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The bare baseline server (lib/fanout-bare.js) as a forked process with an IPC channel. */
export async function startBareServer(env: Record<string, string>) {
  const child = fork(fileURLToPath(new URL('./fanout-bare.js', import.meta.url)), [], {
    env: { ...process.env, ...env },
    execArgv: [INSPECT],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const inspector = inspectorUrl(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`bare server exited (${code})`)));
  });
  const ask = <T>(cmd: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send({ cmd });
    });
  return {
    child,
    port,
    inspector,
    lagReset: () => ask<unknown>('lag-reset'),
    stalls: () => ask<{ maxLagMs: number; longestLoopMs: number }>('lag'),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      await exited;
    },
  };
}

/**
 * From the gateway's /metrics: the longest event-loop stall since the previous scrape (prom-client
 * resets it on every scrape; the scrape itself counts, reading /proc/self/fd with 10k sockets),
 * and the longest synchronous stretch of a delivery, in ms.
 */
export async function gatewayStalls(url: string): Promise<{ lagMs: number; sliceMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(name))
        ?.split(' ')
        .pop(),
    ) * 1000;
  return {
    lagMs: value('nodejs_eventloop_lag_max_seconds'),
    sliceMs: value('dibs_gateway_delivery_slice_max_seconds'),
  };
}

/** A port the OS just handed out, for a child process to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
