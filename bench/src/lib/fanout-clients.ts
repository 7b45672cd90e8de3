import { WebSocket } from 'ws';

/** A crowd of client sockets that only count and time what they receive (cheap on purpose). */
export class Crowd {
  readonly sockets: WebSocket[] = [];
  private marker: Buffer | undefined;
  private received = 0;
  private last = 0;
  private onAll: (() => void) | undefined;
  /** Frames matched by `watchE2e`, keyed by the plan_code they carry → receive time. */
  readonly e2e = new Map<string, number>();
  private e2eMarker: Buffer | undefined;

  /** Opens `targets.length` sockets, `concurrency` handshakes at a time. */
  async open(targets: { url: string; headers?: Record<string, string> }[], concurrency = 200): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const t = targets[next++] as { url: string; headers?: Record<string, string> };
        this.sockets.push(await this.openOne(t.url, t.headers ?? {}));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private openOne(url: string, headers: Record<string, string>): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      ws.on('message', (data: Buffer) => this.onMessage(data));
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
  }

  private onMessage(data: Buffer): void {
    if (this.marker && data.includes(this.marker)) {
      this.received++;
      this.last = performance.now();
      if (this.received === this.sockets.length) this.onAll?.();
      return;
    }
    if (this.e2eMarker && data.includes(this.e2eMarker)) {
      const at = performance.now();
      const frame = JSON.parse(data.toString()) as { type: string; request?: { plan_code?: string } };
      if (frame.type === 'priority_session_request' && frame.request?.plan_code)
        this.e2e.set(frame.request.plan_code, at);
    }
  }

  /** Resolves with the time the last socket received a frame containing `marker` (ms, performance clock). */
  expect(marker: string, timeoutMs = 60_000): Promise<{ last: number; received: number }> {
    this.marker = Buffer.from(marker);
    this.received = 0;
    this.last = 0;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onAll = undefined;
        resolve({ last: this.last, received: this.received });
      };
      const timer = setTimeout(done, timeoutMs);
      this.onAll = done;
    });
  }

  /** Records the receive time of priority offers whose plan_code starts with `marker`. */
  watchE2e(marker: string): void {
    this.e2eMarker = Buffer.from(marker);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.splice(0).map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.terminate();
          }),
      ),
    );
  }
}
