/**
 * Whether a WebSocket handshake's `Origin` may connect. Non-browser clients send no Origin and
 * are always allowed; a browser origin must be in the allowlist (`*` allows all). An empty
 * allowlist therefore admits no browser at all, which is the safe default.
 */
export function originAllowed(origin: string | undefined, allowlist: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowlist.includes('*')) return true;
  return allowlist.includes(origin.replace(/\/+$/, ''));
}

/** The token of a handshake: the bearer header wins over `?token=` (for browsers, which cannot set headers). */
export function handshakeToken(bearer: string | undefined, query: unknown): string | undefined {
  if (bearer) return bearer;
  const token = (query as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}
