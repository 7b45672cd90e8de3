import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './process-helpers.js';

// No Docker engine where the tests run: the Dockerfile and docker-compose.yml are checked statically,
// and the two scripts the image runs (entrypoint, health check) are run directly.
const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true });
const APP_SERVICES = ['intake', 'routing', 'notification', 'analytics'];

describe('docker-compose.yml', () => {
  it('runs NATS with JetStream and PostgreSQL 15, each on a volume, each with a health check', () => {
    const { nats, postgres } = compose.services;
    expect(nats.command).toContain('--jetstream');
    expect(nats.volumes.some((v: string) => v.startsWith('nats-data:'))).toBe(true);
    expect(postgres.image).toMatch(/^postgres:15/);
    expect(postgres.volumes.some((v: string) => v.startsWith('postgres-data:'))).toBe(true);
    for (const infra of [nats, postgres]) expect(infra.healthcheck.test.length).toBeGreaterThan(1);
    expect(Object.keys(compose.volumes)).toEqual(['nats-data', 'postgres-data']);
  });

  it('migrates once before any service starts', () => {
    expect(compose.services.migrate).toMatchObject({ command: ['migrate'], restart: 'no' });
    expect(compose.services.migrate.depends_on.postgres.condition).toBe('service_healthy');
  });

  it.each(APP_SERVICES)('runs %s from the one image, healthy-checked, after migrate, NATS and PostgreSQL', (name) => {
    const svc = compose.services[name];
    expect(svc.image).toBe(compose.services.migrate.image);
    expect(svc.command).toEqual([name]);
    expect(svc.healthcheck.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
    expect(svc.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      nats: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
    });
    expect(svc.read_only).toBe(true);
  });

  it('takes the JWT secret from the environment, with an obvious compose-only default', () => {
    const secret: string = compose.services.intake.environment.AUTH_JWT_SECRET;
    expect(secret).toMatch(/^\$\{AUTH_JWT_SECRET:-compose-only-[^}]+\}$/);
    expect(secret.replace(/^\$\{AUTH_JWT_SECRET:-|\}$/g, '').length).toBeGreaterThanOrEqual(32);
  });

  it('gives every long-running service a health check', () => {
    const oneShots = Object.entries(compose.services).filter(([, s]) => (s as { restart?: string }).restart === 'no');
    expect(oneShots.map(([n]) => n)).toEqual(['migrate']);
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name !== 'migrate') expect((svc as { healthcheck?: unknown }).healthcheck, name).toBeDefined();
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in stages and ships pruned production trees, non-root, NODE_ENV=production, with a health check', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-(slim|alpine)/m);
    expect(dockerfile).toContain('deploy --prod');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*healthcheck\.mjs/m);
    expect(dockerfile).toContain('pnpm@10.34.9');
  });

  it('keeps dependencies and build output out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git']) expect(ignored).toContain(entry);
  });
});

describe('container entrypoint and health check', () => {
  it('refuses an unknown deployable with a usage line', () => {
    const run = spawnSync('sh', [path.join(repoRoot, 'deploy/docker/entrypoint.sh'), 'bogus'], { encoding: 'utf8' });
    expect(run.status).toBe(64);
    expect(run.stderr).toBe('usage: <intake|routing|notification|analytics|migrate> (got "bogus")\n');
  });

  it('reports healthy only when the chosen service answers /healthz on its port', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    // Asynchronously: this process serves the probe meanwhile.
    const check = (env: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        const child = execFile(process.execPath, [path.join(repoRoot, 'deploy/docker/healthcheck.mjs')], {
          env: { ...process.env, ...env },
        });
        child.once('close', (code) => resolve(code));
      });
    try {
      expect(await check({ DIBS_SERVICE: 'routing', ROUTING_PORT: String(port) })).toBe(0);
      expect(await check({ DIBS_SERVICE: 'notification', GATEWAY_PORT: String(port) })).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check({ DIBS_SERVICE: 'routing', ROUTING_PORT: String(port) })).toBe(1);
  });

  it('is executable, as the image runs it directly', () => {
    expect(
      execFileSync('git', ['ls-files', '-s', 'deploy/docker/entrypoint.sh'], { cwd: repoRoot, encoding: 'utf8' }),
    ).toMatch(/^100755 /);
  });
});
