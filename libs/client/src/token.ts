import { decodeJwt } from 'jose';

/**
 * Where the SDK gets its bearer token: a fixed string, or a function it calls again whenever it
 * needs one (each HTTP call, each WebSocket connect, and before the token expires). A function may
 * cache; the SDK never does.
 */
export type TokenSource = string | (() => string | Promise<string>);

/** The token `source` gives now. */
export async function resolveToken(source: TokenSource): Promise<string> {
  return typeof source === 'string' ? source : await source();
}

/** When `token` expires (epoch ms, from its `exp` claim), or undefined when it is not a JWT with one. */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
