import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEV_JWT_SECRET } from '@dibs/config';
import { cleanupNats, createTestDatabase, eventually, natsServers, testPrefix, tokenFor } from '@dibs/testing';
import { describe, expect, it } from 'vitest';
import { connect, refusedHandshake } from './support/clients.js';
import { seedMechanic } from './support/seed.js';

// The built entry point, as `npm start` and Kubernetes run it (npm test builds first).
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('the gateway process', () => {
  it('refuses invalid configuration with one readable line', () => {
    const res = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', GATEWAY_PORT: 'x', GATEWAY_HEARTBEAT_MS: '5' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(78);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^notification: invalid configuration: .*GATEWAY_PORT.*GATEWAY_HEARTBEAT_MS/);
  });

  it('serves sockets, never logs a ?token=, and on SIGTERM closes clients with 1012 and exits', async () => {
    const db = await createTestDatabase();
    const prefix = testPrefix('gwm');
    const port = await freePort();
    let output = '';
    const child: ChildProcess = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'info',
        DATABASE_URL: db.url,
        NATS_URL: natsServers().join(','),
        NATS_PREFIX: prefix,
        AUTH_JWT_SECRET: DEV_JWT_SECRET,
        GATEWAY_PORT: String(port),
        HOST: '127.0.0.1',
      },
    });
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => output.includes('notification gateway listening'), 20_000, 'the gateway to listen');
      const url = `ws://127.0.0.1:${port}/v1/ws`;
      const id = await seedMechanic(db);
      const token = await tokenFor('mechanic', id);
      const client = await connect(url, token, { viaQuery: true });
      const refused = await refusedHandshake(`${url}?token=${token.slice(0, -3)}xyz`, {});
      expect(refused.status).toBe(401);
      child.kill('SIGTERM');
      expect(await client.closed).toBe(1012);
      expect(await exited).toBe(0);
      expect(output).toContain('[redacted]');
      expect(output).not.toContain(token.slice(20));
    } finally {
      child.kill('SIGKILL');
      await cleanupNats(prefix);
      await db.drop();
    }
  });
});

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
