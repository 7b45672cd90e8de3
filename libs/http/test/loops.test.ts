import { createLogger } from '@dibs/logger';
import { describe, expect, it } from 'vitest';
import { every, keepRunning } from '../src/index.js';

const logger = createLogger({ service: 'loops-test', level: 'silent', pretty: false });

describe('keepRunning', () => {
  it('retries a failing iteration with growing waits, back to the first wait after a success', async () => {
    const starts: number[] = [];
    let calls = 0;
    const loop = keepRunning(
      async () => {
        starts.push(performance.now());
        calls++;
        // Fails three times, succeeds once, then fails for good.
        if (calls !== 4) throw calls === 2 ? new TypeError('a bug, not a reason to stop') : new Error('down');
      },
      { name: 'test loop', logger, retryMs: 20, maxRetryMs: 80, factor: 2 },
    );
    await expect.poll(() => calls, { timeout: 2000 }).toBeGreaterThanOrEqual(6);
    await loop.stop();
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    // 20, 40, 80 after failures 1-3; 0 after the success; 20 after the next failure.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(gaps[3]).toBeLessThan(15);
    expect(gaps[4]).toBeGreaterThanOrEqual(18);
    expect(gaps[4]).toBeLessThan(78);
  });

  it('stops at once while waiting, and waits for the iteration in hand', async () => {
    let release = (): void => {};
    let finished = false;
    let calls = 0;
    const waiting = keepRunning(
      async () => {
        calls++;
        throw new Error('down');
      },
      { name: 'waiting', logger, retryMs: 60_000 },
    );
    await expect.poll(() => calls).toBe(1);
    const t0 = performance.now();
    await waiting.stop();
    expect(performance.now() - t0).toBeLessThan(1000);

    const busy = keepRunning(
      async (signal) => {
        await new Promise<void>((r) => {
          release = r;
        });
        finished = signal.aborted;
      },
      { name: 'busy', logger, retryMs: 10 },
    );
    const stopped = busy.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
  });
});

describe('every', () => {
  it('skips ticks while one is still running, and survives a failing tick', async () => {
    let running = 0;
    let overlapped = false;
    let ticks = 0;
    const periodic = every(
      5,
      async () => {
        ticks++;
        if (running > 0) overlapped = true;
        running++;
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (ticks === 1) throw new Error('once');
      },
      { name: 'tick', logger },
    );
    await expect.poll(() => ticks, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    await periodic.stop();
    expect(overlapped).toBe(false);
    expect(running).toBe(0);
  });
});
