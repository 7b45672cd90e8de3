import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { createPrefixer, eachLine } from './log-lines.mjs';
import { preflight } from './preflight.mjs';
import { createSupervisor } from './supervisor.mjs';

const SERVICES = [
  ['intake', 'INTAKE_PORT'],
  ['routing', 'ROUTING_PORT'],
  ['notification', 'GATEWAY_PORT'],
  ['analytics', 'ANALYTICS_PORT'],
  ['console', 'CONSOLE_PORT'],
];

/**
 * Starts the four services and the web console for one demo run: a database and NATS prefix of
 * its own (so it never touches the data of an `npm start` running beside it), free ports, and a
 * short priority minute. `stop()` stops the services and removes the database and the streams.
 */
export async function startPrivateStack({ root, secret, minuteMs, readyTimeoutMs = 60_000 }) {
  const baseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/dibs';
  const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  const problem = await preflight({ databaseUrl: baseUrl, natsUrls: natsUrl.split(',') });
  if (problem) throw new Error(problem);

  const id = randomBytes(4).toString('hex');
  const databaseUrl = withDatabase(baseUrl, `dibs_demo_${id}`);
  const prefix = `dibs_demo_${id}`;
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async ([, v]) => [v, String(await freePort())])));
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    NATS_PREFIX: prefix,
    AUTH_JWT_SECRET: secret,
    PRIORITY_WINDOW_MINUTES: '10',
    PRIORITY_MINUTE_MS: String(minuteMs),
    ...ports,
  };
  const logs = [];
  const keep = (line) => {
    logs.push(line);
    if (logs.length > 200) logs.shift();
  };
  const prefixer = createPrefixer({ names: ['migrate', ...SERVICES.map(([n]) => n)], color: false, pretty: false });

  const migrated = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'libs/db/dist/migrate.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    eachLine(child.stdout, (l) => keep(prefixer.line('migrate', l)));
    eachLine(child.stderr, (l) => keep(prefixer.line('migrate', l)));
    child.once('close', resolve);
  });
  const cleanup = () => removeData({ root, baseUrl, databaseUrl, natsUrl, prefix });
  if (migrated !== 0) {
    await cleanup();
    throw new Error(`migrations failed:\n${logs.join('\n')}`);
  }

  const supervisor = createSupervisor({
    prefixer,
    write: keep,
    services: SERVICES.map(([name]) => ({
      name,
      command: process.execPath,
      args: [path.join(root, `services/${name}/dist/main.js`)],
      env,
      cwd: root,
    })),
  });
  supervisor.start();
  const stop = async () => {
    await supervisor.stop();
    await cleanup();
  };
  try {
    await waitReady(
      SERVICES.map(([, v]) => ports[v]),
      readyTimeoutMs,
    );
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n${logs.join('\n')}`);
  }
  return {
    urls: {
      intakeUrl: `http://127.0.0.1:${ports.INTAKE_PORT}`,
      gatewayUrl: `ws://127.0.0.1:${ports.GATEWAY_PORT}`,
      // The origin intake and the gateway let in by default (they read CONSOLE_PORT too).
      consoleUrl: `http://127.0.0.1:${ports.CONSOLE_PORT}`,
    },
    database: new URL(databaseUrl).pathname.slice(1),
    prefix,
    recentLogs: () => [...logs],
    stop,
  };
}

async function waitReady(ports, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(ports.map((p) => [p, 'not listening']));
  while (pending.size) {
    for (const port of [...pending.keys()]) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) pending.delete(port);
        else pending.set(port, await res.text());
      } catch {
        // not listening yet
      }
    }
    if (!pending.size) return;
    if (Date.now() > deadline) {
      const why = [...pending].map(([port, body]) => `${SERVICES[ports.indexOf(port)][0]}: ${body}`).join('; ');
      throw new Error(`not ready in time: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The demo's database and streams go away with it; the drivers come from the workspace libs.
async function removeData({ root, baseUrl, databaseUrl, natsUrl, prefix }) {
  const fromDb = createRequire(path.join(root, 'libs/db/package.json'));
  const fromNats = createRequire(path.join(root, 'libs/nats/package.json'));
  const pg = fromDb('pg');
  const admin = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  try {
    await admin.connect();
    await admin.query(
      `drop database if exists ${pg.escapeIdentifier(new URL(databaseUrl).pathname.slice(1))} with (force)`,
    );
  } catch {
    // best effort: a leftover dibs_demo_* database is harmless
  } finally {
    await admin.end().catch(() => undefined);
  }
  const { connect } = fromNats('@nats-io/transport-node');
  const { jetstreamManager } = fromNats('@nats-io/jetstream');
  try {
    const nc = await connect({ servers: natsUrl.split(','), timeout: 3000 });
    const jsm = await jetstreamManager(nc);
    for (const name of [`${prefix}_EVENTS`, `KV_${prefix}_presence`]) {
      await jsm.streams.delete(name).catch(() => undefined);
    }
    await nc.close();
  } catch {
    // best effort, as above
  }
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
