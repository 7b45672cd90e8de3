// Docker HEALTHCHECK: GET /healthz on the port of whichever service this container runs.
import { readdirSync, readFileSync } from 'node:fs';

const PORTS = {
  intake: 'INTAKE_PORT:3000',
  notification: 'GATEWAY_PORT:3001',
  routing: 'ROUTING_PORT:3002',
  analytics: 'ANALYTICS_PORT:3003',
  console: 'CONSOLE_PORT:3004',
};
// The service runs as `node /app/<service>/dist/main.js` (PID 1, or PID 1's child under an init
// such as compose's `init: true`); DIBS_SERVICE is the fallback.
const running = () => {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const match = /\/app\/(\w+)\/dist\/main\.js/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      if (match) return match[1];
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
};
const service =
  (() => {
    try {
      return running();
    } catch {
      return undefined;
    }
  })() ?? process.env.DIBS_SERVICE;
if (!service || !(service in PORTS)) process.exit(0); // migrate: a one-shot, nothing to probe
const [variable, fallback] = PORTS[service].split(':');
const port = process.env[variable] || fallback;
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
