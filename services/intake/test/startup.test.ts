import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import { describe, expect, it } from 'vitest';

// The built entry points, as `npm start` and Kubernetes run them (npm test builds first).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = (script: string, args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [`${root}${script}`, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('start-up errors are one readable line', () => {
  it('refuses invalid configuration, naming each bad value', () => {
    const res = run('services/intake/dist/main.js', [], { INTAKE_PORT: 'eighty', NATS_PREFIX: 'has.dots' });
    expect(res.status).toBe(78);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^intake: invalid configuration: .*INTAKE_PORT.*"eighty"/);
    expect(res.stderr).toContain('NATS_PREFIX');
  });

  it('refuses to run in production with the dev secret', () => {
    const res = run('services/intake/dist/main.js', [], { NODE_ENV: 'production', AUTH_JWT_SECRET: DEV_JWT_SECRET });
    expect(res.status).toBe(78);
    expect(res.stderr.trim()).toBe(
      'intake: invalid configuration: AUTH_JWT_SECRET: the development secret is refused when NODE_ENV=production',
    );
  });

  it('says which PostgreSQL it could not reach', () => {
    const res = run('services/intake/dist/main.js', [], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/dibs' });
    expect(res.status).toBe(69);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('PostgreSQL is not reachable at 127.0.0.1:1');
  });
});

describe('npm run token', () => {
  it('prints a token the services accept', async () => {
    const sub = randomUUID();
    const res = run('libs/auth/dist/token.js', ['--role', 'mechanic', '--sub', sub], {});
    expect(res.status).toBe(0);
    const verified = await createTokenService(DEV_JWT_SECRET).verify(res.stdout.trim());
    expect(verified).toMatchObject({ ok: true, principal: { sub, role: 'mechanic' } });
  });

  it('explains its usage on bad arguments', () => {
    const res = run('libs/auth/dist/token.js', ['--role', 'king', '--sub', 'x'], {});
    expect(res.status).toBe(64);
    expect(res.stderr).toContain('--role must be one of customer, mechanic, admin');
  });
});
