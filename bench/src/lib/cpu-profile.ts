import { WebSocket } from 'ws';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
/** V8's CPU profile, as `--cpu-prof` writes it and DevTools opens it (`.cpuprofile`). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Records a V8 CPU profile of a running process through its inspector — the profiler behind
 * `node --cpu-prof`, but over exactly the window between `start` and `stop` instead of the whole
 * life of the process.
 */
export async function startCpuProfile(inspectorUrl: string): Promise<{ stop(): Promise<CpuProfile> }> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 1;
  const call = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { id?: number; result?: T; error?: { message: string } };
        if (msg.id !== id) return;
        ws.off('message', onMessage);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result as T);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  await call('Profiler.start');
  return {
    async stop() {
      const { profile } = await call<{ profile: CpuProfile }>('Profiler.stop');
      await call('Profiler.disable');
      ws.close();
      return profile;
    },
  };
}

export interface ProfileSummary {
  /** Wall time covered, ms. */
  spanMs: number;
  /** CPU time sampled on the main thread (everything but idle), ms. */
  busyMs: number;
  /** Self time by where the code lives (a package, dibs' own code, GC), native code charged to its caller. */
  byPlace: { place: string; ms: number; share: number }[];
  /** Self time by function. */
  byFunction: { fn: string; ms: number; share: number }[];
}

/** Where a frame's code lives: an npm package, a dibs package, node itself, or V8's own work. */
function placeOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node:internals';
  const own = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (own) return `dibs ${own[1]}/${own[2]}`;
  return url;
}

/** Aggregates a profile's self time by place and by function. */
export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta that follows it (the sampling interval, roughly).
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    selfMs.set(samples[i] as number, (selfMs.get(samples[i] as number) ?? 0) + dt);
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native code and node's internals are charged to the nearest package or dibs module that
  // called them: a socket write is the cost of whoever wrote (pg, nats, pino, the HTTP server).
  const ownerOf = (id: number): string => {
    const self = placeOf((byId.get(id) as ProfileNode).callFrame);
    if (self !== '(native)' && self !== 'node:internals') return self;
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      const p = placeOf((byId.get(up) as ProfileNode).callFrame);
      if (p !== '(native)' && p !== 'node:internals' && p !== '(root)') return p;
    }
    return self;
  };
  const place = new Map<string, number>();
  const fn = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    busy += ms;
    const p = ownerOf(id);
    place.set(p, (place.get(p) ?? 0) + ms);
    const file = f.url ? `${p} ${f.url.slice(f.url.lastIndexOf('/') + 1)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'}${file ? ` (${file})` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + ms);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ k, ms: Math.round(ms), share: Math.round((ms / Math.max(busy, 1)) * 1000) / 10 }));
  return {
    spanMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: Math.round(busy),
    byPlace: rank(place).map(({ k, ms, share }) => ({ place: k, ms, share })),
    byFunction: rank(fn).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}
