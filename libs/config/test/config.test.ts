import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_JWT_SECRET, envPieces, loadConfig, resolveJwtSecret, z } from '../src/index.js';

const schema = z.object({
  DATABASE_URL: envPieces.DATABASE_URL,
  NATS_URL: envPieces.NATS_URL,
  NATS_PREFIX: envPieces.NATS_PREFIX,
  INTAKE_PORT: envPieces.INTAKE_PORT,
  PRIORITY_MINUTE_MS: envPieces.PRIORITY_MINUTE_MS,
});

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    expect(loadConfig(schema, {})).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/dibs',
      NATS_URL: ['nats://127.0.0.1:4222'],
      NATS_PREFIX: 'dibs',
      INTAKE_PORT: 3000,
      PRIORITY_MINUTE_MS: 60000,
    });
  });

  it('splits comma-separated NATS servers and treats empty values as unset', () => {
    expect(loadConfig(schema, { NATS_URL: 'nats://a:4222, nats://b:4222', INTAKE_PORT: '' }).NATS_URL).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ]);
  });

  it('reports one readable line per invalid value', () => {
    try {
      loadConfig(schema, { INTAKE_PORT: 'eighty', NATS_PREFIX: 'a.b', DATABASE_URL: 'mysql://x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const lines = (err as ConfigError).lines;
      expect(lines).toHaveLength(3);
      expect(lines.find((l) => l.startsWith('INTAKE_PORT:'))).toContain('"eighty"');
      expect(lines.find((l) => l.startsWith('NATS_PREFIX:'))).toBeDefined();
      expect(lines.find((l) => l.startsWith('DATABASE_URL:'))).toContain('postgres://');
    }
  });
});

describe('resolveJwtSecret', () => {
  it('uses the dev secret outside production', () => {
    expect(resolveJwtSecret({ NODE_ENV: 'development' })).toBe(DEV_JWT_SECRET);
  });
  it('refuses a missing or dev secret in production, and never prints the secret', () => {
    expect(() => resolveJwtSecret({ NODE_ENV: 'production' })).toThrow(/AUTH_JWT_SECRET: required/);
    expect(() => resolveJwtSecret({ NODE_ENV: 'production', AUTH_JWT_SECRET: DEV_JWT_SECRET })).toThrow(
      /development secret is refused/,
    );
    expect(resolveJwtSecret({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40) })).toBe('x'.repeat(40));
  });
  it('hides secret values in error lines', () => {
    const s = z.object({ AUTH_JWT_SECRET: envPieces.AUTH_JWT_SECRET });
    expect(() => loadConfig(s, { AUTH_JWT_SECRET: 'short-secret' })).toThrow(
      /^(?!.*short-secret).*AUTH_JWT_SECRET: must be at least 32/,
    );
  });
});
