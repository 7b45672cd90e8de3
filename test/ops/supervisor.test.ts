import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPrefixer, prettyLine } from '../../scripts/lib/log-lines.mjs';
import { createSupervisor } from '../../scripts/lib/supervisor.mjs';
import { isAlive, repoRoot, watchNode } from './process-helpers.js';

const fixture = (name: string) => path.join(repoRoot, 'test/ops/fixtures', name);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dibs-sup-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pidsOf = (lines: string[], name: string) =>
  lines
    .filter((l) => l.startsWith(name) && l.includes('"msg":"ready"'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))).pid as number);

describe('supervisor', () => {
  it('restarts a crashed service with growing backoff and says so', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const supervisor = createSupervisor({
      prefixer: createPrefixer({ names: ['crashy'], color: false, pretty: false }),
      write: (line: string) => lines.push(line),
      initialBackoffMs: 40,
      services: [
        {
          name: 'crashy',
          command: process.execPath,
          args: [fixture('fake-service.mjs')],
          env: { ...process.env, FAKE_NAME: 'crashy', FAKE_CRASHES: '2', FAKE_RUNS_FILE: path.join(dir, 'runs') },
        },
      ],
    });
    const ready = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (lines.some((l) => l.includes('"msg":"ready"'))) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    supervisor.start();
    await ready;
    await supervisor.stop();

    const notices = lines.filter((l) => l.includes('▲'));
    expect(notices).toEqual([
      'crashy │ ▲ exited with code 1; restarting in 40ms (restart #1)',
      'crashy │ ▲ exited with code 1; restarting in 80ms (restart #2)',
    ]);
    expect(lines).toContain('crashy │ crashy: crashing on purpose (run 1)');
    expect(lines.some((l) => /^crashy │ \{"level":30,.*"run":3,"msg":"ready"\}$/.test(l))).toBe(true);
  });

  it('stops every service with one SIGTERM each on SIGTERM, and exits 0', async () => {
    const run = watchNode([fixture('supervise-fakes.mjs'), 'alpha', 'beta'], { FAKE_DIR: tempDir() });
    await run.waitFor(/^alpha +│ .*"msg":"ready"/);
    await run.waitFor(/^beta +│ .*"msg":"ready"/);
    const pids = [...pidsOf(run.lines, 'alpha'), ...pidsOf(run.lines, 'beta')];

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.lines.filter((l) => l.includes('stopping on SIGTERM'))).toHaveLength(2);
    expect(run.lines.some((l) => l.includes('"signals":2'))).toBe(false);
    expect(run.lines.at(-1)).toBe('dibs  │ ▲ all services stopped');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('drains once when Ctrl-C arrives twice', async () => {
    const run = watchNode([fixture('supervise-fakes.mjs'), 'alpha'], { FAKE_DIR: tempDir() });
    await run.waitFor(/"msg":"ready"/);
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
    expect(run.lines.filter((l) => l.includes('stopping on SIGTERM'))).toHaveLength(1);
    expect(run.lines.some((l) => l.includes('got SIGINT'))).toBe(false);
  });

  it('stops everything when a process above it dies (npm killed alone never forwards the signal)', async () => {
    // `; true` keeps the shell alive as the parent, as npm's `sh -c` and the node shim are.
    const command = `"${process.execPath}" "${fixture('supervise-fakes.mjs')}" alpha; true`;
    const shell = watchNode(
      ['-e', `require('node:child_process').spawn('sh', ['-c', ${JSON.stringify(command)}], { stdio: 'inherit' })`],
      {
        FAKE_DIR: tempDir(),
      },
    );
    await shell.waitFor(/"msg":"ready"/);
    const pid = pidsOf(shell.lines, 'alpha')[0];
    shell.child.kill('SIGKILL');
    await shell.exited;
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(pid)).toBe(false);
  });

  it('gives up when a service refuses its configuration (exit 78), stopping the others', async () => {
    const run = watchNode([fixture('supervise-fakes.mjs'), 'healthy', 'misconfigured:1:78'], { FAKE_DIR: tempDir() });
    expect((await run.exited).code).toBe(78);
    expect(run.lines).toContain(
      'misconfigured │ ▲ exited with code 78: its configuration is invalid (see above); stopping everything',
    );
    expect(run.lines.some((l) => l.includes('restarting'))).toBe(false);
  });
});

describe('log lines', () => {
  it('keeps a JSON line intact after the prefix, so it stays machine-readable', () => {
    const prefixer = createPrefixer({ names: ['intake', 'notification'], color: false, pretty: false });
    const json = '{"level":30,"time":"2026-11-23T12:00:01.250Z","service":"intake","msg":"listening","port":3000}';
    const line = prefixer.line('intake', json);
    expect(line).toBe(`intake       │ ${json}`);
    expect(JSON.parse(line.slice(line.indexOf('│') + 2))).toMatchObject({ msg: 'listening' });
  });

  it('renders a pino line compactly for a terminal, error stacks on their own prefixed lines', () => {
    expect(prettyLine('{"level":40,"time":"2026-11-23T12:00:01.250Z","msg":"slow","request_id":"r1"}')).toBe(
      '12:00:01.250 WARN  slow request_id=r1',
    );
    expect(prettyLine('not json at all')).toBe('not json at all');
    const prefixer = createPrefixer({ names: ['routing'], color: false, pretty: true });
    const out = prefixer.line(
      'routing',
      '{"level":50,"time":"2026-11-23T12:00:01.250Z","msg":"boom","err":{"stack":"Error: x\\n    at y"}}',
    );
    expect(out.split('\n')).toEqual(['routing │ 12:00:01.250 ERROR boom', 'routing │ Error: x', 'routing │     at y']);
  });
});
