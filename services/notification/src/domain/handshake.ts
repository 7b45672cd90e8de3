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

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const PROTOCOLS = new RegExp(`^${TOKEN}(?:[ \\t]*,[ \\t]*${TOKEN})*$`);

/**
 * What is wrong with a WebSocket upgrade request's own headers (RFC 6455 §4.2.1), with what `ws`
 * would refuse: checked before `ws` sees the request, whose refusals are text/html, so that the
 * answer is problem+json like every other (CONTRACT §3). Undefined when the headers are well-formed.
 */
export function upgradeRefusal(headers: {
  upgrade?: string | undefined;
  'sec-websocket-key'?: string | undefined;
  'sec-websocket-version'?: string | undefined;
  'sec-websocket-protocol'?: string | undefined;
}): { detail: string; headers?: Record<string, string> } | undefined {
  if (headers.upgrade?.toLowerCase() !== 'websocket') return { detail: 'the Upgrade header must be websocket' };
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) {
    return { detail: 'Sec-WebSocket-Key must be 16 random bytes in base64' };
  }
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return { detail: 'Sec-WebSocket-Version must be 13', headers: { 'sec-websocket-version': '13, 8' } };
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((p) => p.trim());
    if (!PROTOCOLS.test(protocols) || new Set(names).size !== names.length) {
      return { detail: 'Sec-WebSocket-Protocol must be a list of distinct tokens' };
    }
  }
  return undefined;
}
