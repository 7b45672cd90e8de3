import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTokenService } from '@dibs/auth';
import { DEV_JWT_SECRET } from '@dibs/config';
import { createLogger } from '@dibs/logger';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, type Console, DEFAULT_WEB_ROOT, loadConsoleConfig } from '../src/app.js';

// The console's server (CONTRACT §8): the built page on its own paths, where the API and the
// gateway are (configured, or the page's host), and a development sign-in that production lacks.

const logger = createLogger({ service: 'console-test', level: 'silent', pretty: false });
const start = (env: Record<string, string>, webRoot?: string) =>
  buildConsole({
    config: loadConsoleConfig({ LOG_LEVEL: 'silent', ...env }),
    logger,
    ...(env.NODE_ENV === 'production' ? {} : { jwtSecret: DEV_JWT_SECRET }),
    ...(webRoot ? { webRoot } : {}),
  });

describe('the console server outside production', () => {
  let c: Console;
  beforeAll(async () => {
    c = await start({ NODE_ENV: 'development', INTAKE_PORT: '4000', GATEWAY_PORT: '4001' });
  });
  afterAll(async () => {
    await c?.close();
  });

  it("serves the page on each role's path, with a policy allowing only its own scripts", async () => {
    for (const url of ['/', '/sign-in', '/mechanic', '/customer', '/admin']) {
      const res = await c.app.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.body).toContain('<div id="app">');
    }
    const asset = readdirSync(path.join(DEFAULT_WEB_ROOT, 'assets')).find((f) => f.endsWith('.js'));
    const res = await c.app.inject(`/assets/${asset}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await c.app.inject('/nothing-here');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('tells the page to find the API and the gateway on its own host, and that the development sign-in exists', async () => {
    const res = await c.app.inject('/config.json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ api_url: null, ws_url: null, intake_port: 4000, gateway_port: 4001, dev_login: true });
  });

  it('signs development tokens for any role; a mechanic or customer token names one', async () => {
    const tokens = createTokenService(DEV_JWT_SECRET);
    const admin = await c.app.inject({ method: 'POST', url: '/dev/token', payload: { role: 'admin' } });
    expect(admin.statusCode).toBe(200);
    const verified = await tokens.verify(admin.json().token);
    expect(verified).toMatchObject({ ok: true, principal: { role: 'admin', sub: admin.json().sub } });

    const sub = '6f1c1c6e-4a1b-4f4e-9a53-0d7b2f1b3c11';
    const mechanic = await c.app.inject({ method: 'POST', url: '/dev/token', payload: { role: 'mechanic', sub } });
    expect(await tokens.verify(mechanic.json().token)).toMatchObject({
      ok: true,
      principal: { role: 'mechanic', sub },
    });

    const anonymous = await c.app.inject({ method: 'POST', url: '/dev/token', payload: { role: 'customer' } });
    expect(anonymous.statusCode).toBe(400);
    expect(anonymous.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'sub' }] });
  });

  it('is ready only while the built page is there', async () => {
    expect((await c.app.inject('/readyz')).statusCode).toBe(200);
    const elsewhere = await start(
      { NODE_ENV: 'development' },
      fileURLToPath(new URL('./no-such-build/', import.meta.url)),
    );
    try {
      const res = await elsewhere.app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ checks: { page: 'down' } });
    } finally {
      await elsewhere.close();
    }
  });
});

describe('the request log', () => {
  it('never holds a token given in the URL', async () => {
    const lines: string[] = [];
    const captured = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const c = await buildConsole({
      config: loadConsoleConfig({ NODE_ENV: 'development' }),
      logger: captured,
      jwtSecret: DEV_JWT_SECRET,
    });
    try {
      expect((await c.app.inject('/mechanic?token=secret.jwt.value&x=1')).statusCode).toBe(200);
      await new Promise((r) => setImmediate(r));
      const logged = lines.join('');
      expect(logged).toContain('/mechanic?token=[redacted]&x=1');
      expect(logged).not.toContain('secret.jwt.value');
    } finally {
      await c.close();
    }
  });
});

describe('the console server in production', () => {
  it('has no development sign-in and needs no secret', async () => {
    const c = await start({
      NODE_ENV: 'production',
      CONSOLE_API_URL: 'https://api.dibs.example/',
      CONSOLE_WS_URL: 'wss://ws.dibs.example',
    });
    try {
      expect((await c.app.inject('/config.json')).json()).toEqual({
        api_url: 'https://api.dibs.example',
        ws_url: 'wss://ws.dibs.example/v1/ws',
        intake_port: 3000,
        gateway_port: 3001,
        dev_login: false,
      });
      const res = await c.app.inject({ method: 'POST', url: '/dev/token', payload: { role: 'admin' } });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await c.close();
    }
  });

  it('refuses an invalid URL at start-up in one readable line', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const res = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', CONSOLE_API_URL: 'ftp://api.dibs.example', CONSOLE_WS_URL: 'https://x' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(78);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(
      /^console: invalid configuration: CONSOLE_API_URL: must be a http or https URL.*CONSOLE_WS_URL/,
    );
  });
});
