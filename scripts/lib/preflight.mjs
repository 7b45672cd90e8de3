import net from 'node:net';

// Checks that `npm start` runs before anything else, so a newcomer without PostgreSQL or NATS
// reads one sentence saying what is missing and where to get it, not a stack trace from a service.
// Plain sockets only: this file runs before any workspace package is known to be built.

const HOW_TO_GET =
  "start them with `docker compose up -d nats postgres`, or install Debian's packages " +
  '(`sudo apt-get install postgresql nats-server`, then `nats-server -js`)';

/**
 * Probes PostgreSQL (a TCP connect to the host in `databaseUrl`) and every NATS server in
 * `natsUrls` (reads the server's INFO line, which says whether JetStream is on).
 * Resolves to `null` when both are usable, else to one readable line naming what is missing.
 */
export async function preflight({ databaseUrl, natsUrls, timeoutMs = 3000 }) {
  const [pg, nats] = await Promise.all([checkPostgres(databaseUrl, timeoutMs), checkNats(natsUrls, timeoutMs)]);
  const problems = [pg, nats].filter(Boolean);
  if (problems.length === 0) return null;
  const wrongJetStream = nats?.kind === 'no-jetstream' && !pg;
  const hint = wrongJetStream ? 'restart it with JetStream enabled (`nats-server -js`)' : HOW_TO_GET;
  return `dibs: ${problems.map((p) => p.text).join(' and ')} — ${hint}; or point ${problems
    .map((p) => p.variable)
    .join(' / ')} elsewhere.`;
}

async function checkPostgres(databaseUrl, timeoutMs) {
  const { host, port } = hostPort(databaseUrl, 5432);
  try {
    const socket = await connectTcp(host, port, timeoutMs);
    socket.destroy();
    return null;
  } catch (err) {
    return { variable: 'DATABASE_URL', text: `PostgreSQL is not reachable at ${host}:${port} (${reason(err)})` };
  }
}

async function checkNats(natsUrls, timeoutMs) {
  const failures = [];
  for (const url of natsUrls) {
    const { host, port } = hostPort(url, 4222);
    try {
      const info = await readNatsInfo(host, port, timeoutMs);
      if (info.jetstream === true) return null;
      failures.push({ url, kind: 'no-jetstream' });
    } catch (err) {
      failures.push({ url, kind: 'down', why: reason(err) });
    }
  }
  const where = natsUrls.join(',');
  if (failures.every((f) => f.kind === 'no-jetstream')) {
    return { variable: 'NATS_URL', kind: 'no-jetstream', text: `NATS at ${where} runs without JetStream` };
  }
  const why = failures.find((f) => f.kind === 'down')?.why;
  return { variable: 'NATS_URL', kind: 'down', text: `NATS is not reachable at ${where} (${why})` };
}

/** `host`/`port` of a URL such as postgres://u@h:5432/db or nats://h:4222 (brackets stripped from IPv6). */
export function hostPort(url, defaultPort) {
  try {
    const u = new URL(url.includes('://') ? url : `nats://${url}`);
    return { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || defaultPort) };
  } catch {
    return { host: url, port: defaultPort };
  }
}

function connectTcp(host, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

// A NATS server greets every client with `INFO {json}\r\n` before anything else.
async function readNatsInfo(host, port, timeoutMs) {
  const socket = await connectTcp(host, port, timeoutMs);
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => finish(new Error('no INFO from server (is this NATS?)')), timeoutMs);
    const finish = (err, info) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(info);
    };
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end === -1) return;
      const line = buffer.slice(0, end);
      if (!line.startsWith('INFO ')) return finish(new Error('not a NATS server'));
      try {
        finish(null, JSON.parse(line.slice(5)));
      } catch {
        finish(new Error('unreadable INFO from server'));
      }
    });
    socket.on('error', (err) => finish(err));
  });
}

function reason(err) {
  const code = err?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ETIMEDOUT') return 'timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  return err?.message ?? String(err);
}
