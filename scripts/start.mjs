// `npm start`: checks PostgreSQL and NATS, applies migrations, runs the four services and the web
// console as one supervised process tree with prefixed logs, and prints where to go next. Plain ESM on purpose:
// it runs right after `pnpm install && build` with no build step of its own.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrefixer, eachLine, wantsColor } from './lib/log-lines.mjs';
import { preflight } from './lib/preflight.mjs';
import { runSupervised } from './lib/supervisor.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The deployables and the env var naming each one's HTTP port (CONTRACT §1, §8). */
const SERVICES = [
  { name: 'intake', portVar: 'INTAKE_PORT', defaultPort: 3000 },
  { name: 'routing', portVar: 'ROUTING_PORT', defaultPort: 3002 },
  { name: 'notification', portVar: 'GATEWAY_PORT', defaultPort: 3001 },
  { name: 'analytics', portVar: 'ANALYTICS_PORT', defaultPort: 3003 },
  { name: 'console', portVar: 'CONSOLE_PORT', defaultPort: 3004 },
];
const byName = (name) => SERVICES.find((s) => s.name === name);

const env = { ...process.env };
env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/dibs';
env.NATS_URL ||= 'nats://127.0.0.1:4222';
const port = (s) => Number(env[s.portVar] || s.defaultPort);

const color = wantsColor(process.stdout);
const prefixer = createPrefixer({
  names: ['dibs', 'migrate', ...SERVICES.map((s) => s.name)],
  color,
  pretty: process.stdout.isTTY === true,
});
const say = (text, severity = 'info') => console.log(prefixer.notice('dibs', text, severity));

const problem = await preflight({
  databaseUrl: env.DATABASE_URL,
  natsUrls: env.NATS_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
});
if (problem) fail(problem, 69);

const missing = [
  'libs/config/dist/index.js',
  'libs/db/dist/migrate.js',
  ...SERVICES.map((s) => `services/${s.name}/dist/main.js`),
  'services/console/dist/web/index.html',
].filter((f) => !existsSync(path.join(root, f)));
if (missing.length) {
  fail(
    `dibs: ${missing.join(', ')} not built — run \`npm start\` from the repo root (it installs and builds first).`,
    1,
  );
}

const { DEV_JWT_SECRET } = await import(path.join(root, 'libs/config/dist/index.js'));
if (!env.AUTH_JWT_SECRET) {
  env.AUTH_JWT_SECRET = DEV_JWT_SECRET;
  say(`using the development JWT secret "${DEV_JWT_SECRET}" (set AUTH_JWT_SECRET to use your own)`);
}

const migrated = await runOnce('migrate', [path.join(root, 'libs/db/dist/migrate.js')]);
if (migrated !== 0) process.exit(migrated ?? 1);

runSupervised(
  {
    prefixer,
    services: SERVICES.map((s) => ({
      name: s.name,
      command: process.execPath,
      args: [path.join(root, `services/${s.name}/dist/main.js`)],
      env,
      cwd: root,
    })),
  },
  { onStopping: (why) => say(`stopping every service (${why})…`) },
);

const notReady = await waitUntilReady(90_000);
if (notReady.length === 0) printWhereToGo();
else say(`not ready after 90 s: ${notReady.join(', ')} — see their lines above; still supervising them`, 'warn');

/** Runs `node <args>` to completion with prefixed output; resolves to its exit code. */
function runOnce(name, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    eachLine(child.stdout, (line) => console.log(prefixer.line(name, line)));
    eachLine(child.stderr, (line) => console.error(prefixer.line(name, line)));
    child.once('close', (code) => resolve(code));
  });
}

/** Polls every service's /readyz; resolves to the services still not ready (with why) at the deadline. */
async function waitUntilReady(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(SERVICES.map((s) => [s, 'not listening yet']));
  while (pending.size && Date.now() < deadline) {
    for (const s of [...pending.keys()]) {
      try {
        const res = await fetch(`http://127.0.0.1:${port(s)}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) pending.delete(s);
        else pending.set(s, describeChecks(await res.text()));
      } catch {
        // not listening yet (starting, or restarting after a crash)
      }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 1000));
  }
  return [...pending].map(([s, why]) => `${s.name} (${why})`);
}

// `{"status":"not_ready","checks":{"database":"down","nats":"ok"}}` → "database down"
function describeChecks(body) {
  try {
    const down = Object.entries(JSON.parse(body).checks ?? {}).filter(([, v]) => v !== 'ok');
    return down.length ? down.map(([k, v]) => `${k} ${v}`).join(', ') : 'not ready';
  } catch {
    return 'not ready';
  }
}

function printWhereToGo() {
  const intake = `http://localhost:${port(byName('intake'))}`;
  const ws = `ws://localhost:${port(byName('notification'))}/v1/ws`;
  const web = `http://localhost:${port(byName('console'))}`;
  const lines = [
    'dibs is up: intake, routing, notification gateway, analytics and the console, supervised (Ctrl-C stops them all)',
    `  console      ${web}   (mechanic, customer and admin pages: paste a token, open ${web}/?token=<token>, or use its development sign-in)`,
    `  HTTP API     ${intake}/v1/…   docs: ${intake}/docs   (OpenAPI: ${intake}/docs/json)`,
    `  WebSocket    ${ws}   (header "Authorization: Bearer <token>", or ?token=<token>)`,
    `  a token      npm run token -- --role admin --sub ${randomUUID()}`,
    '               (mechanic/customer tokens need the mechanic/customer to exist: create them as admin)',
    '  the story    npm run demo   (plays the seed: priority offer, accept, timeout, broadcast, decline, analytics; prints console links)',
    `  probes       /healthz /readyz /metrics on ports ${SERVICES.map(port).join(', ')}`,
  ];
  for (const line of lines) say(line);
}

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
