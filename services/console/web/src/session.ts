import type { Role } from '@dibs/contracts';
import { decodeJwt } from 'jose';

// Who is signed in: a bearer token pasted, given as `?token=` in the page's URL, or minted by the
// development sign-in. Kept in sessionStorage, so each tab may be someone else.

const KEY = 'dibs-console.session';
const ROLES: readonly Role[] = ['customer', 'mechanic', 'admin'];

export interface Session {
  token: string;
  role: Role;
  /** The customer's, mechanic's or admin's id (`sub`). */
  sub: string;
  /** Epoch ms; undefined without an `exp`. */
  expiresAt: number | undefined;
  /** A development sign-in, which the console can renew before it expires. */
  dev: boolean;
}

/** The session a token gives, or an error saying why it is not a dibs token. */
export function sessionFromToken(token: string, dev = false): Session | Error {
  const text = token.trim().replace(/^Bearer\s+/i, '');
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(text);
  } catch {
    return new Error('That is not a token: a dibs token is a JWT (three base64url parts joined by dots).');
  }
  const role = claims.role as Role;
  if (!ROLES.includes(role) || typeof claims.sub !== 'string') {
    return new Error('That token names no dibs role: it needs a `role` (customer, mechanic or admin) and a `sub`.');
  }
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  if (expiresAt !== undefined && expiresAt <= Date.now()) return new Error('That token has expired: get a new one.');
  return { token: text, role, sub: claims.sub, expiresAt, dev };
}

/**
 * The session to start with: a `?token=` in the URL (taken out of the address bar and history
 * right away, so it is not left in them), else the one this tab stored.
 */
export function initialSession(): Session | Error | undefined {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
    const session = sessionFromToken(fromUrl);
    if (!(session instanceof Error)) storeSession(session);
    return session;
  }
  const stored = window.sessionStorage.getItem(KEY);
  if (!stored) return undefined;
  const session = sessionFromToken(stored.slice(stored.indexOf(':') + 1), stored.startsWith('dev:'));
  return session instanceof Error ? undefined : session;
}

export function storeSession(session: Session | undefined): void {
  if (session) window.sessionStorage.setItem(KEY, `${session.dev ? 'dev' : 'token'}:${session.token}`);
  else window.sessionStorage.removeItem(KEY);
}

/** Mints a token with the console server's development sign-in (absent in production). */
export async function devToken(role: Role, sub?: string): Promise<Session> {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sub ? { role, sub } : { role }),
  });
  const body = (await res.json()) as { token?: string; detail?: string };
  if (!res.ok || !body.token) throw new Error(body.detail ?? `the development sign-in answered ${res.status}`);
  const session = sessionFromToken(body.token, true);
  if (session instanceof Error) throw session;
  return session;
}
