import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = `${root}bench/dist/chaos.js`;

interface Summary {
  kills: number;
  acknowledged: number;
  requests: number;
  acceptedByPreferred: number;
  timedOut: number;
  declined: number;
  availabilityChanges: number;
  sequences: {
    requests: number;
    laterTiersOffered: number;
    acceptedInTier: number;
    outcomes: Record<string, number>;
  };
  violations: { check: string; count: number }[];
}

/**
 * The reliability suite's short run (`pnpm chaos` runs it for as long as asked): 20 s of bookings
 * (through one favorite, through ranked favorites in sequence, or to everyone), accepts and
 * declines, and mechanics going away and back, while a random service process is killed with
 * SIGKILL every 2–3 s. The run itself checks every invariant on what it leaves behind and exits 1
 * on any violation.
 */
describe('chaos: kill -9 under load', () => {
  it('loses no request, doubles nothing and keeps every window and tier on time', { timeout: 240_000 }, async () => {
    expect(existsSync(script), `${script} is missing: run \`npm run build\` first`).toBe(true);
    const child = spawn(process.execPath, [script, '20', '--seed=20261129'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = output.split('\n').find((l) => l.startsWith('chaos-summary '));
    expect(line, output).toBeDefined();
    const summary = JSON.parse((line as string).slice('chaos-summary '.length)) as Summary;
    expect(summary.violations, output).toEqual([]);
    expect(code, output).toBe(0);
    // The run did what it claims: processes died, and every path of a window was taken under fire.
    expect(summary.kills).toBeGreaterThanOrEqual(5);
    expect(summary.acknowledged).toBeGreaterThan(40);
    expect(summary.requests).toBe(summary.acknowledged);
    expect(summary.acceptedByPreferred).toBeGreaterThan(0);
    expect(summary.timedOut).toBeGreaterThan(0);
    expect(summary.declined).toBeGreaterThan(0);
    // Sequences moved on (a tier timed out, was declined or skipped), were accepted inside a
    // tier, and a tier's deadline passed under fire; mechanics went away and came back.
    expect(summary.sequences.requests).toBeGreaterThan(0);
    expect(summary.sequences.laterTiersOffered).toBeGreaterThan(0);
    expect(summary.sequences.acceptedInTier).toBeGreaterThan(0);
    expect(summary.sequences.outcomes.timeout ?? 0).toBeGreaterThan(0);
    expect(summary.availabilityChanges).toBeGreaterThan(0);
  });
});
