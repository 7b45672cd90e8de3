import type { GatewayFrameOf, SessionRequest } from '@dibs/contracts';
import { DibsApiError, DibsConnectionError, DibsResponseError } from '../errors.js';

export interface CommandOptions {
  /** How long to wait for the connection and the `result` (default: the connection's `commandTimeoutMs`). */
  timeoutMs?: number;
}

interface Pending {
  requestId: string;
  /** Written to a socket: if that socket closes, the outcome is unknown. */
  sent: boolean;
  resolve(request: SessionRequest): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Accepts and declines in flight, each answered by the gateway's `result` frame with its `ref`. */
export class PendingCommands {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private idleWaiters: (() => void)[] = [];

  /**
   * Sends `type` for `requestId` once the connection is ready and resolves with the request its
   * `result` carries; rejects with `DibsApiError` on a refusal, `DibsConnectionError` on a timeout
   * or when the socket it was sent on closes first.
   */
  run(
    type: 'accept' | 'decline',
    requestId: string,
    timeoutMs: number,
    ready: () => Promise<void>,
    send: (frame: object) => boolean,
  ): Promise<SessionRequest> {
    const ref = `${type}:${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.finish(ref);
        reject(new DibsConnectionError('timeout', `no result for ${type} of ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(ref, { requestId, sent: false, resolve, reject, timer });
      void ready().then(() => {
        const entry = this.pending.get(ref);
        if (!entry) return;
        if (send({ type, request_id: requestId, ref })) entry.sent = true;
        else this.fail(ref, 'closed');
      });
    });
  }

  /** Settles the command a `result` answers; undefined when none waits for its `ref`. */
  settle(frame: GatewayFrameOf<'result'>): { requestId: string } | undefined {
    const ref = typeof frame.ref === 'string' ? frame.ref : undefined;
    const entry = ref === undefined ? undefined : this.pending.get(ref);
    if (!entry || ref === undefined) return undefined;
    this.finish(ref);
    if (!frame.ok) entry.reject(DibsApiError.fromCommand(frame.code ?? 'invalid_command', frame.detail));
    else if (frame.request) entry.resolve(frame.request);
    else entry.reject(new DibsResponseError(`result ${ref} is ok but carries no request`));
    return { requestId: entry.requestId };
  }

  /** The socket closed: commands sent on it fail (`closed`); those not sent yet wait for the next. `all`: every one. */
  failAll(reason: 'closed', all = false): void {
    for (const [ref, entry] of this.pending) if (all || entry.sent) this.fail(ref, reason);
  }

  /** Resolves once no command sent waits for its result. */
  idle(): Promise<void> {
    if (![...this.pending.values()].some((p) => p.sent)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(ref: string, reason: 'closed'): void {
    const entry = this.pending.get(ref);
    if (!entry) return;
    this.finish(ref);
    entry.reject(
      new DibsConnectionError(
        reason,
        `the socket closed before the result of ${ref}; read the request to know its outcome`,
      ),
    );
  }

  private finish(ref: string): void {
    const entry = this.pending.get(ref);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(ref);
    if (![...this.pending.values()].some((p) => p.sent)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
