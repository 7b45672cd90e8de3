import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const routingDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A script of routing's build (`npm test` builds before vitest runs). */
export function builtScript(relative: string): string {
  const file = path.join(routingDir, relative);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: build first (node_modules/.bin/tsc -b services/routing, or npm test)`);
  }
  return file;
}

export interface Child {
  process: ChildProcess;
  /** Every JSON log line seen so far. */
  logs: Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when a log line with this `msg` appears. */
  waitForLog(msg: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs a node script in a child process with `env`, collecting its pino JSON lines. */
export function spawnNode(script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const w of waiters.filter((x) => x.msg === entry.msg)) w.resolve();
      } catch {
        // not a log line
      }
      nl = buffer.indexOf('\n');
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(msg, timeoutMs = 20_000) {
      if (logs.some((l) => l.msg === msg)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)),
          timeoutMs,
        );
        waiters.push({
          msg,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(({ code, signal }) =>
          reject(new Error(`exited (${code ?? signal}) before "${msg}": ${stderr.slice(-2000)}`)),
        );
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
