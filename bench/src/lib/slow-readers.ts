import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { memoryAfterGc, rssOf, type ServiceChild } from './fanout-procs.js';

export interface SlowReadersOptions {
  /** A fresh gateway process: its memory before the burst is the level to return to. */
  gateway: ServiceChild;
  wsUrl: string;
  /** One mechanic token per socket: the first `healthy` read normally, the rest stop reading. */
  tokens: string[];
  healthy: number;
  broadcasts: number;
  /** The gateway's GATEWAY_HEARTBEAT_MS: it finds a stalled reader one to two of these after it stopped. */
  heartbeatMs: number;
  /** Publishes one broadcast whose frame contains `marker`; resolves with a function that publishes its taking. */
  broadcast(marker: string): Promise<() => Promise<void>>;
}

export interface MemoryPoint {
  heap: number;
  rss: number;
}

/** How one group of slow sockets ended once it read again. */
export interface SlowGroup {
  sockets: number;
  /** Close code → sockets ('still open' if none came in 60 s). */
  closes: Record<string, number>;
  /** Broadcast frames each socket got before its close (min, max). */
  frames: [number, number];
}

export interface SlowReadersResult {
  healthy: number;
  broadcasts: number;
  /** Healthy sockets that received every broadcast and its `request_taken`, and were never closed. */
  healthyComplete: number;
  /** Slow sockets that read again `COMEBACK_HEARTBEATS` heartbeat intervals after they stopped (a phone out of a tunnel). */
  back: SlowGroup;
  /** Slow sockets that read again only after the gateway had given up on them (a phone gone). */
  gone: SlowGroup;
  /** Slow sockets the gateway had started closing (its log) when the `back` group read again. */
  closingAtComeback: number;
  /** From the first broadcast until every healthy socket had the last `request_taken`, ms. */
  burstMs: number;
  /** From the first broadcast until the gateway had closed every slow socket (or the wait ended), ms. */
  slowClosedAfterMs: number;
  /** The gateway after a full GC: before the burst, and once the gateway had closed the slow sockets. */
  memory: { before: MemoryPoint; after: MemoryPoint };
  /** The gateway's highest RSS sampled during the burst. */
  peakRss: number;
}

/** What the gateway logs when it starts closing a slow reader (services/notification/src/app.ts). */
const SLOW_LOG = 'slow client; closing (1013)';
/** When the `back` group reads again, in heartbeat intervals after it stopped. */
export const COMEBACK_HEARTBEATS = 3.5;

interface Reader {
  ws: WebSocket;
  frames: number;
  taken: number;
  closed: Promise<number>;
}

/**
 * Slow readers (CONTRACT §4): `tokens.length - healthy` mechanics stop reading their socket (the
 * TCP socket is paused) while `broadcasts` broadcasts go out and are taken. Half of them read again
 * right after the burst, the other half only once the gateway has let go of them. The healthy
 * sockets must get every frame; a slow one that comes back reads what was already on its way and
 * then the 1013 close; and the gateway's memory after a full GC returns to its level before the burst.
 */
export async function slowReaders(opts: SlowReadersOptions): Promise<SlowReadersResult> {
  const { gateway, broadcasts } = opts;
  const pid = gateway.child.pid as number;
  const inspector = await gateway.inspector;
  const marker = `slow-${Date.now()}`;
  const readers = await Promise.all(opts.tokens.map((token) => open(opts.wsUrl, token, marker)));
  const healthy = readers.slice(0, opts.healthy);
  const slow = readers.slice(opts.healthy);
  const back = slow.slice(0, Math.ceil(slow.length / 2));
  const gone = slow.slice(back.length);
  // ws's own pause: the socket stays paused (pausing the net.Socket alone, ws resumes it when its
  // receiver drains, and the 'stalled' reader quietly reads on).
  for (const r of slow) r.ws.pause();
  const pausedAt = Date.now();
  await sleep(1000);
  const before = await memoryAfterGc(inspector, pid);

  let peakRss = rssOf(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(pid));
  }, 50);
  const started = Date.now();
  let slowClosedAfterMs = Number.NaN;
  let burstMs = Number.NaN;
  let closingAtComeback = Number.NaN;
  gateway.linesWith(SLOW_LOG);
  // Out of the tunnel, whether the burst is over or not, once the gateway has found them and before
  // it cuts a close they did not complete. A socket is first pinged about one heartbeat after it
  // connected and found silent one heartbeat later, within the heartbeat's lap: 2–3 heartbeats in;
  // the close is cut two heartbeats (at least 5 s) after it began. So 3.5 heartbeats in.
  const comeback = sleep(Math.max(0, pausedAt + COMEBACK_HEARTBEATS * opts.heartbeatMs - Date.now())).then(() => {
    closingAtComeback = gateway.linesWith(SLOW_LOG);
    for (const r of back) r.ws.resume();
  });
  try {
    // The burst, 50 broadcasts at a time, each batch then taken (as requests are): a healthy socket
    // forgets each offer again, so what it remembers stays small while a slow one's backlog grows.
    for (let sent = 0; sent < broadcasts; sent += 50) {
      const n = Math.min(50, broadcasts - sent);
      const takes = await Promise.all(Array.from({ length: n }, () => opts.broadcast(marker)));
      await Promise.all(takes.map((take) => take()));
    }
    await until(
      () => healthy.every((r) => r.frames >= broadcasts && r.taken >= broadcasts),
      'every broadcast and its request_taken on every healthy socket',
    );
    burstMs = Date.now() - started;
    await comeback;
    // Not a failure of the bench if some are never closed: the report says so ('still open').
    const closedSlow = async () => (await disconnects(gateway.url, 'slow_consumer')) >= slow.length;
    await until(closedSlow, 'the gateway to close every slow socket', 4 * opts.heartbeatMs + 30_000).catch(
      () => undefined,
    );
    slowClosedAfterMs = Date.now() - started;
  } finally {
    clearInterval(sampler);
  }
  const after = await memoryAfterGc(inspector, pid);

  for (const r of gone) r.ws.resume();
  const [backGroup, goneGroup] = await Promise.all([settle(back), settle(gone)]);
  const healthyComplete = healthy.filter(
    (r) => r.frames >= broadcasts && r.taken >= broadcasts && r.ws.readyState === WebSocket.OPEN,
  ).length;
  for (const r of readers) r.ws.terminate();
  return {
    healthy: healthy.length,
    broadcasts,
    healthyComplete,
    back: backGroup,
    gone: goneGroup,
    burstMs,
    closingAtComeback,
    slowClosedAfterMs,
    memory: { before, after },
    peakRss,
  };
}

async function settle(group: Reader[]): Promise<SlowGroup> {
  const codes = await Promise.all(
    group.map((r) => Promise.race([r.closed, sleep(60_000).then(() => 'still open' as const)])),
  );
  const closes: Record<string, number> = {};
  for (const code of codes) closes[String(code)] = (closes[String(code)] ?? 0) + 1;
  const counts = group.map((r) => r.frames);
  return { sockets: group.length, closes, frames: [Math.min(...counts), Math.max(...counts)] };
}

// Opens a mechanic's socket and resolves once its snapshot arrived (the gateway is sending live frames).
function open(url: string, token: string, marker: string): Promise<Reader> {
  const needle = Buffer.from(marker);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const reader: Reader = {
      ws,
      frames: 0,
      taken: 0,
      closed: new Promise((r) => ws.once('close', (code) => r(code))),
    };
    ws.on('message', (data: Buffer) => {
      if (data.includes(needle)) reader.frames++;
      else if (data.includes('"type":"request_taken"')) reader.taken++;
      else if (data.includes('"type":"snapshot"')) resolve(reader);
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`slow readers: gave up waiting for ${what}`);
    await sleep(50);
  }
}

/** The gateway's count of connections it ended for `reason` (its /metrics). */
async function disconnects(url: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('dibs_gateway_disconnects_total{') && l.includes(`reason="${reason}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}
