import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEV_JWT_SECRET } from '@dibs/config';
import { eventually, natsServers, type TestDatabase } from '@dibs/testing';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ServiceProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs another service's built entry point (`services/<name>/dist/main.js`) as its own process,
 * as `npm start` does, on the test's database and prefix; resolves once it answers its probe.
 */
export async function startService(
  name: 'intake' | 'routing',
  db: TestDatabase,
  prefix: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const portVar = name === 'intake' ? 'INTAKE_PORT' : 'ROUTING_PORT';
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [`${root}services/${name}/dist/main.js`], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      NATS_URL: natsServers().join(','),
      NATS_PREFIX: prefix,
      AUTH_JWT_SECRET: DEV_JWT_SECRET,
      HOST: '127.0.0.1',
      [portVar]: String(port),
      ...env,
    },
  });
  const append = (c: Buffer) => {
    output = (output + c.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let readiness = '';
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        // intake's /readyz says "database down" until its first query (MikroORM 7 connects
        // lazily), so it is only asked whether it is alive; routing must be ready.
        const res = await fetch(`${url}/${name === 'intake' ? 'healthz' : 'readyz'}`);
        readiness = await res.text();
        return res.status === 200;
      },
      30_000,
      `${name} to be ready`,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message} ${readiness}\n${output}`);
  }
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port the OS just handed out (so not another process's), for a child to listen on. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
