import net from 'node:net';
import { cleanupNats, createTestDatabase, natsServers, type TestDatabase, testPrefix } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive, type Watched, watchNode } from './process-helpers.js';

const START = 'scripts/start.mjs';

describe('npm start when a dependency is missing', () => {
  it('names NATS, its address and how to get one, in one line, and exits non-zero', async () => {
    const port = await freePort();
    const run = watchNode([START], { NATS_URL: `nats://127.0.0.1:${port}` });
    const { code } = await run.exited;
    expect(code).toBe(69);
    expect(run.stderr.filter(Boolean)).toHaveLength(1);
    const [line] = run.stderr;
    expect(line).toContain(`NATS is not reachable at nats://127.0.0.1:${port} (connection refused)`);
    expect(line).toContain('docker compose up -d nats postgres');
    expect(line).toContain('apt-get install postgresql nats-server');
    expect(line).not.toContain('PostgreSQL is not reachable');
    expect(run.lines.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('names PostgreSQL and its address when the database is down', async () => {
    const port = await freePort();
    const run = watchNode([START], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/dibs` });
    expect((await run.exited).code).toBe(69);
    expect(run.stderr.filter(Boolean)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^dibs: PostgreSQL is not reachable at 127\\.0\\.0\\.1:${port} \\(connection refused\\) — start them with`,
        ),
      ),
    ]);
  });

  it('says so when NATS runs without JetStream', async () => {
    // A stand-in server greeting like nats-server without -js.
    const server = net.createServer((socket) =>
      socket.end('INFO {"server_id":"x","version":"2.9.10","jetstream":false}\r\n'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const run = watchNode([START], { NATS_URL: `nats://127.0.0.1:${port}` });
      expect((await run.exited).code).toBe(69);
      expect(run.stderr.filter(Boolean)).toEqual([
        `dibs: NATS at nats://127.0.0.1:${port} runs without JetStream — restart it with JetStream enabled (\`nats-server -js\`); or point NATS_URL elsewhere.`,
      ]);
    } finally {
      server.close();
    }
  });
});

describe('npm start with PostgreSQL and NATS', () => {
  let db: TestDatabase;
  const prefix = testPrefix('start');
  const ports: Record<string, number> = {};
  let run: Watched | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const v of ['INTAKE_PORT', 'GATEWAY_PORT', 'ROUTING_PORT', 'ANALYTICS_PORT']) ports[v] = await freePort();
  });
  afterAll(async () => {
    // A failed assertion must not leave the stack running.
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    await db?.drop();
    await cleanupNats(prefix);
  });

  it('runs the four services, restarts a killed one, prints where to go, and stops cleanly on SIGTERM', async () => {
    const stack = watchNode([START], {
      DATABASE_URL: db.url,
      NATS_URL: natsServers().join(','),
      NATS_PREFIX: prefix,
      AUTH_JWT_SECRET: undefined,
      NODE_ENV: undefined,
      LOG_LEVEL: 'info',
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    });
    run = stack;
    await stack.waitFor(/dibs is up/, 60_000);
    await stack.waitFor(/probes +\/healthz \/readyz \/metrics on ports/);
    const output = stack.lines.join('\n');
    expect(output).toContain('using the development JWT secret');
    expect(output).toContain(`http://localhost:${ports.INTAKE_PORT}/docs`);
    expect(output).toContain(`ws://localhost:${ports.GATEWAY_PORT}/v1/ws`);
    expect(output).toMatch(/npm run token -- --role admin --sub [0-9a-f-]{36}/);
    expect(output).toContain('npm run demo');
    // Every service's own JSON lines, prefixed with its name (a service's first line may come a
    // moment after the supervisor's summary: loggers write asynchronously).
    for (const name of ['intake', 'routing', 'notification', 'analytics']) {
      await stack.waitFor(new RegExp(`^${name.padEnd(12)} │ \\{`));
    }
    for (const port of Object.values(ports)) {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    }

    const routingPid = await servicePid(ports.ROUTING_PORT);
    process.kill(routingPid, 'SIGKILL');
    await stack.waitFor(/^routing +│ ▲ was killed by SIGKILL; restarting in 500ms \(restart #1\)$/);
    await eventuallyOk(`http://127.0.0.1:${ports.ROUTING_PORT}/readyz`);
    const pids = await Promise.all(Object.values(ports).map(servicePid));

    stack.child.kill('SIGTERM');
    expect(await stack.exited).toEqual({ code: 0, signal: null });
    expect(stack.lines.at(-1)).toMatch(/all services stopped$/);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  }, 120_000);
});

// The pid listening on `port` (`ss` reads it from the kernel's socket table).
async function servicePid(port: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  if (!match) throw new Error(`nothing listens on ${port}: ${out}`);
  return Number(match[1]);
}

async function eventuallyOk(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // restarting
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}
