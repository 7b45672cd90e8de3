import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearerToken, createTokenService } from '../src/index.js';

const sub = '6f1c2a52-3a4b-4c5d-8e9f-0a1b2c3d4e5f';
const secret = 'a-test-secret-that-is-at-least-32-chars';

describe('tokens', () => {
  it('signs and verifies a role token', async () => {
    const t = createTokenService(secret);
    const result = await t.verify(await t.sign({ sub, role: 'mechanic' }));
    expect(result).toEqual({ ok: true, principal: { sub, role: 'mechanic', exp: expect.any(Number) } });
  });
  it('tells missing, expired, forged and malformed tokens apart', async () => {
    let now = Date.now();
    const t = createTokenService(secret, () => now);
    const token = await t.sign({ sub, role: 'customer' }, 60);
    expect(await t.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    // Verified once (and remembered), it still expires on time.
    expect((await t.verify(token)).ok).toBe(true);
    now += 61_000;
    expect(await t.verify(token)).toEqual({ ok: false, reason: 'expired' });
    expect(
      await createTokenService(`${secret}-other`).verify(await createTokenService(secret).sign({ sub, role: 'admin' })),
    ).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await t.verify('a.b.c')).toEqual({ ok: false, reason: 'invalid' });
  });
  it('refuses a token whose sub is not a uuid or whose role is unknown', async () => {
    const t = createTokenService(secret);
    expect(await t.verify(await t.sign({ sub: 'bob', role: 'admin' }))).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.verify(await t.sign({ sub, role: 'root' as 'admin' }))).toEqual({ ok: false, reason: 'invalid' });
  });
  it('says when a well-signed token has no exp, instead of calling it malformed', async () => {
    const noExp = await new SignJWT({ role: 'customer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .sign(new TextEncoder().encode(secret));
    expect(await createTokenService(secret).verify(noExp)).toEqual({ ok: false, reason: 'exp_missing' });
  });
  it('refuses a token that expires further ahead than the maximum (24 h unless told)', async () => {
    const t = createTokenService(secret);
    expect((await t.verify(await t.sign({ sub, role: 'customer' }, 24 * 3600))).ok).toBe(true);
    expect(await t.verify(await t.sign({ sub, role: 'customer' }, 24 * 3600 + 60))).toEqual({
      ok: false,
      reason: 'exp_too_far',
    });
    const strict = createTokenService(secret, Date.now, 600);
    expect(await strict.verify(await t.sign({ sub, role: 'customer' }, 3600))).toEqual({
      ok: false,
      reason: 'exp_too_far',
    });
    expect((await strict.verify(await t.sign({ sub, role: 'customer' }, 300))).ok).toBe(true);
  });
  it('reads Bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
