import { eventually } from '@dibs/testing';
import type { DibsConnection, LiveOffer, SessionRequest } from '../../src/index.js';

/** What a connection told the app, in order: `added:<id>:<kind>`, `replaced:…`, `removed:<id>:<reason>`, `state:<s>`. */
export class Recorder {
  readonly log: string[] = [];
  readonly updates: SessionRequest[] = [];
  readonly errors: Error[] = [];

  constructor(readonly conn: DibsConnection) {
    conn.on('offerAdded', (o: LiveOffer) => this.log.push(`added:${o.request_id}:${o.kind}`));
    conn.on('offerReplaced', (o: LiveOffer) => this.log.push(`replaced:${o.request_id}:${o.kind}`));
    conn.on('offerRemoved', (o: LiveOffer, reason) => this.log.push(`removed:${o.request_id}:${reason}`));
    conn.on('state', (s) => this.log.push(`state:${s}`));
    conn.on('requestUpdate', (r) => this.updates.push(r));
    conn.on('error', (e) => this.errors.push(e));
  }

  /** The offer events about one request. */
  about(requestId: string): string[] {
    return this.log.filter((l) => l.includes(`:${requestId}:`));
  }

  count(entry: string): number {
    return this.log.filter((l) => l === entry).length;
  }

  /** Resolves once `entry` has been told (at least `times` times). */
  until(entry: string, times = 1, timeoutMs = 10_000): Promise<true> {
    return eventually(() => this.count(entry) >= times, timeoutMs, `${entry} ×${times} (log: ${this.log.join(', ')})`);
  }
}
