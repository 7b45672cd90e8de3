import { WebSocket } from 'ws';

export type Frame = Record<string, unknown> & { id: string; type: string; at: string };

/** A real `ws` client that records every frame and how the socket ended. */
export class TestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  private listeners = new Set<() => void>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
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
        if (found) {
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
