import { ServerFrameSchema } from '@dibs/contracts';
import { WebSocket } from 'ws';

export type Frame = Record<string, unknown> & { id: string; type: string; at: string };

/**
 * Why `frame` breaks the contract (CONTRACT §4), or undefined: it must parse with its schema in
 * `@dibs/contracts` (the one the SDK parses with) and carry nothing the schema leaves out (a
 * mechanic's `request` without `customer_email`, for one).
 */
export function frameViolation(frame: unknown): string | undefined {
  const parsed = ServerFrameSchema.safeParse(frame);
  const type = (frame as { type?: unknown } | null)?.type;
  if (!parsed.success) return `frame ${JSON.stringify(type)} off its schema: ${parsed.error.message}`;
  if (canonical(parsed.data) !== canonical(frame))
    return `frame ${JSON.stringify(type)} carries fields its schema does not: ${JSON.stringify(frame)}`;
  return undefined;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A real `ws` client that records every frame and how the socket ended. Every frame is checked
 * against its schema: a frame off the contract makes `next` reject and is thrown as an uncaught
 * error, so the test fails even when it waits for nothing.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  /** Frames that broke their schema, each with why. */
  readonly violations: string[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  private listeners = new Set<() => void>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const violation = frameViolation(frame);
      if (violation) {
        this.violations.push(violation);
        setImmediate(() => {
          throw new Error(violation);
        });
      }
      this.frames.push(frame);
      for (const l of this.listeners) l();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
        for (const l of this.listeners) l();
      });
    });
    ws.on('error', () => undefined);
  }

  /** Resolves with the first frame (already received or coming) matching `match`. */
  next(match: (f: Frame) => boolean, timeoutMs = 10_000, what = 'a frame'): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(match);
        if (this.violations.length > 0) {
          done();
          reject(new Error(this.violations[0]));
        } else if (found) {
          done();
          resolve(found);
        } else if (this.closeCode !== undefined) {
          done();
          reject(new Error(`socket closed (${this.closeCode}) before ${what}; got ${this.types().join(', ')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; got ${this.types().join(', ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The first frame of `type` (optionally about request `requestId`). */
  nextOf(type: string, requestId?: string, timeoutMs?: number): Promise<Frame> {
    return this.next(
      (f) => f.type === type && (requestId === undefined || aboutRequest(f) === requestId),
      timeoutMs,
      type,
    );
  }

  ofType(type: string, requestId?: string): Frame[] {
    return this.frames.filter((f) => f.type === type && (requestId === undefined || aboutRequest(f) === requestId));
  }

  types(): string[] {
    return this.frames.map((f) => f.type);
  }

  send(body: unknown): void {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
  }

  close(): Promise<number> {
    if (this.closeCode === undefined) this.ws.close();
    return this.closed;
  }
}

export function aboutRequest(f: Frame): string | undefined {
  if (typeof f.request_id === 'string') return f.request_id;
  const request = f.request as { id?: string } | undefined;
  return request?.id;
}

export interface ConnectOptions {
  /** Send the token as ?token= instead of the Authorization header. */
  viaQuery?: boolean;
  origin?: string;
  autoPong?: boolean;
}

/** Opens a socket and waits for `hello` (and, for mechanics, `snapshot`). */
export async function connect(url: string, token: string, opts: ConnectOptions = {}): Promise<TestClient> {
  const target = opts.viaQuery ? `${url}?token=${encodeURIComponent(token)}` : url;
  const ws = new WebSocket(target, {
    headers: opts.viaQuery ? {} : { authorization: `Bearer ${token}` },
    ...(opts.origin ? { origin: opts.origin } : {}),
    autoPong: opts.autoPong ?? true,
  });
  const client = new TestClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const hello = await client.nextOf('hello');
  if (hello.role === 'mechanic') await client.nextOf('snapshot');
  return client;
}

/** Attempts a handshake that must be refused; resolves with the HTTP status and problem body (never upgraded). */
export function refusedHandshake(
  url: string,
  headers: Record<string, string>,
  origin?: string,
): Promise<{ status: number; body: Record<string, unknown>; upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, body: {}, upgraded: true });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {}, upgraded: false }),
      );
    });
    ws.once('error', (err) => reject(err));
  });
}

/** The request ids of the client's snapshot frame, in order. */
export function snapshotIds(client: TestClient): string[] {
  const snapshot = client.frames.find((f) => f.type === 'snapshot');
  const items = (snapshot?.open_requests ?? []) as { request: { id: string } }[];
  return items.map((i) => i.request.id);
}
