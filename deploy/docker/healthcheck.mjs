// Docker HEALTHCHECK: GET /healthz on the port of whichever service this container runs.
import { readFileSync } from 'node:fs';

const PORTS = {
  intake: 'INTAKE_PORT:3000',
  notification: 'GATEWAY_PORT:3001',
  routing: 'ROUTING_PORT:3002',
  analytics: 'ANALYTICS_PORT:3003',
};
// PID 1 is `node /app/<service>/dist/main.js` (the entrypoint execs it); DIBS_SERVICE is the fallback.
const cmdline = (() => {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8');
  } catch {
    return '';
  }
})();
const service = /\/app\/(\w+)\/dist\/main\.js/.exec(cmdline)?.[1] ?? process.env.DIBS_SERVICE;
if (!service || !(service in PORTS)) process.exit(0); // migrate: a one-shot, nothing to probe
const [variable, fallback] = PORTS[service].split(':');
const port = process.env[variable] || fallback;
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
