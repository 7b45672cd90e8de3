import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

export const ROLES = ['customer', 'mechanic', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The identity a valid token carries (CONTRACT §2). */
export interface Principal {
  sub: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const ClaimsSchema = z.object({ sub: z.uuid(), role: z.enum(ROLES), exp: z.number().int() });

/**
 * Why a token was refused: none given, expired, without an `exp` claim, expiring further ahead
 * than the service allows (a stolen long-lived token would stay good for that long), or anything
 * else (malformed, wrongly signed, wrong claims).
 */
export type RefusalReason = 'missing' | 'expired' | 'exp_missing' | 'exp_too_far' | 'invalid';

export type VerifyResult = { ok: true; principal: Principal } | { ok: false; reason: RefusalReason };

/** The longest a token may still have to live when presented, by default (AUTH_MAX_TOKEN_TTL). */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 24 * 3600;

/** Words for each refusal, as problem+json details and handshake answers say them. */
export const REFUSAL_DETAIL: Record<RefusalReason, string> = {
  missing: 'an Authorization: Bearer <token> header is required',
  expired: 'the token has expired',
  exp_missing: 'the token has no exp (expiry) claim',
  exp_too_far: 'the token expires too far ahead (more than AUTH_MAX_TOKEN_TTL from now)',
  invalid: 'the token is malformed or wrongly signed',
};

/** HS256 signer and verifier for one secret. */
export interface TokenService {
  sign(claims: { sub: string; role: Role }, ttlSeconds?: number): Promise<string>;
  verify(token: string | undefined | null): Promise<VerifyResult>;
}

/**
 * Creates the token service; tokens are HS256 with required `sub`, `role` and `exp`, and `exp` at
 * most `maxTtlSeconds` ahead of now.
 */
export function createTokenService(
  secret: string,
  clock: () => number = Date.now,
  maxTtlSeconds: number = DEFAULT_MAX_TOKEN_TTL_SECONDS,
): TokenService {
  const key = new TextEncoder().encode(secret);
  const verified = new LRUCache<string, Principal>({ max: MAX_CACHED_TOKENS });
  return {
    async sign({ sub, role }, ttlSeconds = 3600) {
      const now = Math.floor(clock() / 1000);
      return new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(key);
    },
    async verify(token) {
      if (!token) return { ok: false, reason: 'missing' };
      // A token already verified is only re-checked for expiry: HMAC verification is the
      // dominant cost of an authenticated request, and a client reuses its token many times.
      const known = verified.get(token);
      if (known) {
        if (known.exp * 1000 > clock()) return { ok: true, principal: known };
        verified.delete(token);
        return { ok: false, reason: 'expired' };
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
          currentDate: new Date(clock()),
        });
        const claims = ClaimsSchema.safeParse(payload);
        if (!claims.success) return { ok: false, reason: 'invalid' };
        if (claims.data.exp * 1000 > clock() + maxTtlSeconds * 1000) return { ok: false, reason: 'exp_too_far' };
        verified.set(token, claims.data);
        return { ok: true, principal: claims.data };
      } catch (err) {
        if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
        // Correctly signed but without `exp`: say so, rather than "malformed or wrongly signed".
        if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp') {
          return { ok: false, reason: 'exp_missing' };
        }
        return { ok: false, reason: 'invalid' };
      }
    },
  };
}

// Bounds the verified-token cache (least recently used out first); forgetting a token only costs re-verifying it.
const MAX_CACHED_TOKENS = 10_000;

/** Extracts the token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
