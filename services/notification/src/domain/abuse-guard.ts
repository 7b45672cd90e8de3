/**
 * Per-connection flood and abuse control, decided from an injected `now` (ms).
 *
 * - Rate: a token bucket of `ratePerSecond` refilled continuously, holding two seconds' worth,
 *   so short bursts pass and a steady flood does not.
 * - Abuse: every refused frame adds a strike; strikes fade at one per second. Reaching `limit`
 *   means the client keeps misbehaving and the connection is closed (1008).
 */
export class AbuseGuard {
  private tokens: number;
  private lastRefill: number;
  private strikes = 0;
  private leakFrom = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly limit: number,
    now: number,
  ) {
    this.tokens = ratePerSecond * 2;
    this.lastRefill = now;
  }

  /** Takes one token; false when the client is over its rate. */
  admit(now: number): boolean {
    const capacity = this.ratePerSecond * 2;
    this.tokens = Math.min(capacity, this.tokens + ((now - this.lastRefill) / 1000) * this.ratePerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Records one violation; true when the connection should now be closed. */
  strike(now: number): boolean {
    const leaked = Math.floor((now - this.leakFrom) / 1000);
    if (leaked > 0) {
      this.strikes = Math.max(0, this.strikes - leaked);
      this.leakFrom += leaked * 1000;
    }
    if (this.strikes === 0) this.leakFrom = now;
    this.strikes += 1;
    return this.strikes >= this.limit;
  }
}
