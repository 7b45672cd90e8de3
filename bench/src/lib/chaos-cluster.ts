import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export type ServiceName = 'intake' | 'routing' | 'notification' | 'analytics';

const PORT_VAR: Record<ServiceName, string> = {
  intake: 'INTAKE_PORT',
  routing: 'ROUTING_PORT',
  notification: 'GATEWAY_PORT',
  analytics: 'ANALYTICS_PORT',
};

/** One service process of the chaos run, on a port that stays its own across restarts. */
export interface Instance {
  service: ServiceName;
  name: string;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  /** When it was ready to serve (readyz 200) until it was killed or stopped, epoch ms. */
  up: { from: number; to?: number }[];
  kills: number;
  /** The last lines it wrote, for a report when something goes wrong. */
  tail: string[];
}

/**
 * The four services as separate processes (`services/<name>/dist/main.js`, as `npm start` runs
 * them), which the chaos run kills with SIGKILL and starts again on the same port.
 */
export function createCluster(env: Record<string, string>) {
  const instances: Instance[] = [];

  function add(service: ServiceName, name: string, port: number): Instance {
    const instance: Instance = {
      service,
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      child: undefined,
      up: [],
      kills: 0,
      tail: [],
    };
    instances.push(instance);
    return instance;
  }

  function start(i: Instance): void {
    const child = spawn(process.execPath, [`${root}services/${i.service}/dist/main.js`], {
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ...env,
        [PORT_VAR[i.service]]: String(i.port),
        ...(i.service === 'notification' ? { GATEWAY_INSTANCE_ID: i.name } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      i.tail.push(...chunk.toString().split('\n').filter(Boolean));
      if (i.tail.length > 40) i.tail.splice(0, i.tail.length - 40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    i.child = child;
    void markReady(i, child);
  }

  /** Polls readyz until this very process answers 200, then opens an "up" interval. */
  async function markReady(i: Instance, child: ChildProcess): Promise<void> {
    while (i.child === child && child.exitCode === null && child.signalCode === null) {
      const ok = await fetch(`${i.url}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok && i.child === child) {
        i.up.push({ from: Date.now() });
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function closeInterval(i: Instance): void {
    const last = i.up.at(-1);
    if (last && last.to === undefined) last.to = Date.now();
  }

  /** kill -9, no cleanup, no goodbye. */
  async function kill(i: Instance): Promise<void> {
    const child = i.child;
    if (!child) return;
    closeInterval(i);
    i.child = undefined;
    i.kills++;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async function stop(i: Instance): Promise<void> {
    const child = i.child;
    if (!child) return;
    closeInterval(i);
    i.child = undefined;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }

  /** Resolves once every instance is running and ready. */
  async function allReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const notYet = instances.filter((i) => !isUp(i));
      if (notYet.length === 0) return;
      if (Date.now() > deadline) {
        const detail = notYet.map((i) => `${i.name}: ${i.tail.slice(-5).join(' | ')}`).join('\n');
        throw new Error(`not ready in ${timeoutMs} ms:\n${detail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function isUp(i: Instance): boolean {
    const last = i.up.at(-1);
    return i.child !== undefined && last !== undefined && last.to === undefined;
  }

  /** Whether some instance of `service` was up through the whole of [from, to]. */
  function upThrough(service: ServiceName, from: number, to: number): boolean {
    return instances
      .filter((i) => i.service === service)
      .some((i) => i.up.some((u) => u.from <= from && (u.to === undefined || u.to >= to)));
  }

  return { instances, add, start, kill, stop, allReady, upThrough, isUp };
}
export type Cluster = ReturnType<typeof createCluster>;
