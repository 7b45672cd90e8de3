import { ConfigError } from '@dibs/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntakeConfig } from '../src/config.js';
import { bearer, type IntakeHarness, startIntake } from './harness.js';

// The web console calls the API from its own origin (CONTRACT §8): CORS for the configured
// origins only, the console's by default outside production, never "every origin" in production.

const CONSOLE = 'https://console.dibs.example';
const corsOrigins = (env: Record<string, string>) => loadIntakeConfig(env).INTAKE_CORS_ORIGINS;

describe('CORS origins in the configuration', () => {
  it("defaults to the console's origins outside production and to none in production", () => {
    expect(corsOrigins({ NODE_ENV: 'development' })).toEqual(['http://localhost:3004', 'http://127.0.0.1:3004']);
    expect(corsOrigins({ NODE_ENV: 'test', CONSOLE_PORT: '4100' })).toEqual([
      'http://localhost:4100',
      'http://127.0.0.1:4100',
    ]);
    expect(corsOrigins({ NODE_ENV: 'production' })).toEqual([]);
  });

  it('takes a comma list of origins, trailing slashes dropped', () => {
    const origins = corsOrigins({
      NODE_ENV: 'production',
      INTAKE_CORS_ORIGINS: ` ${CONSOLE}/ , http://localhost:5173`,
    });
    expect(origins).toEqual([CONSOLE, 'http://localhost:5173']);
  });

  it('refuses "*" in production, and anything that is not an origin, in one line naming the variable', () => {
    expect(() => loadIntakeConfig({ NODE_ENV: 'production', INTAKE_CORS_ORIGINS: `${CONSOLE},*` })).toThrow(
      /^invalid configuration: INTAKE_CORS_ORIGINS: "\*" \(every origin\) is refused with NODE_ENV=production/,
    );
    expect(corsOrigins({ NODE_ENV: 'development', INTAKE_CORS_ORIGINS: '*' })).toEqual(['*']);
    for (const bad of ['console.dibs.example', 'https://console.dibs.example/path', 'ftp://x.example']) {
      let error: unknown;
      try {
        loadIntakeConfig({ INTAKE_CORS_ORIGINS: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).lines).toEqual([
        expect.stringMatching(/^INTAKE_CORS_ORIGINS: ".*" is not an origin/),
      ]);
    }
  });
});

describe('CORS on the API', () => {
  let h: IntakeHarness;
  let customer: { id: string; token: string };
  beforeAll(async () => {
    h = await startIntake({ relay: false, env: { INTAKE_CORS_ORIGINS: CONSOLE } });
    customer = await h.customer();
  });
  afterAll(async () => {
    await h?.close();
  });

  const preflight = (origin: string, method = 'PUT') =>
    h.intake.app.inject({
      method: 'OPTIONS',
      url: '/v1/favorites/order',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });

  it("answers the console's preflight with the methods and headers the SDK sends", async () => {
    const res = await preflight(CONSOLE);
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': CONSOLE,
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'authorization, content-type, idempotency-key, x-request-id',
      'access-control-max-age': '600',
    });
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(res.headers.vary)).toMatch(/origin/i);
  });

  it('lets the console read answers and errors (problem+json, Retry-After, Location) but no other origin', async () => {
    const ok = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/favorites',
      headers: { ...bearer(customer.token), origin: CONSOLE },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(ok.headers['access-control-expose-headers']).toBe(
      'retry-after, location, idempotent-replayed, x-request-id',
    );
    const refused = await h.intake.app.inject({ method: 'GET', url: '/v1/favorites', headers: { origin: CONSOLE } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(CONSOLE);

    const elsewhere = await h.intake.app.inject({
      method: 'GET',
      url: '/v1/favorites',
      headers: { ...bearer(customer.token), origin: 'https://evil.example' },
    });
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight from another origin, or with no origin, with a problem+json 404', async () => {
    for (const res of [
      await preflight('https://evil.example'),
      await h.intake.app.inject({ method: 'OPTIONS', url: '/v1/favorites' }),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
