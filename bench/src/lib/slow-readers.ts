import type { Socket } from 'node:net';
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
  /** Slow sockets that read again as soon as the burst was over (a phone out of a tunnel). */
  back: SlowGroup;
  /** Slow sockets that read again only after the gateway had given up on them (a phone gone). */
  gone: SlowGroup;
  /** From the first broadcast until the gateway had closed every slow socket, ms. */
  slowClosedAfterMs: number;
  /** The gateway after a full GC: before the burst, and once the gateway had closed the slow sockets. */
  memory: { before: MemoryPoint; after: MemoryPoint };
  /** The gateway's highest RSS sampled during the burst. */
  peakRss: number;
}

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
  for (const r of slow) socketOf(r.ws).pause();
  await sleep(1000);
  const before = await memoryAfterGc(inspector, pid);

  let peakRss = rssOf(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(pid));
  }, 50);
  const started = Date.now();
  let slowClosedAfterMs = Number.NaN;
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
    for (const r of back) socketOf(r.ws).resume();
    const closedSlow = async () => (await disconnects(gateway.url, 'slow_consumer')) >= slow.length;
    await until(closedSlow, 'the gateway to close every slow socket');
    slowClosedAfterMs = Date.now() - started;
  } finally {
    clearInterval(sampler);
  }
  const after = await memoryAfterGc(inspector, pid);

  for (const r of gone) socketOf(r.ws).resume();
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

function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
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
