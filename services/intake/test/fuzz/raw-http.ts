import { connect } from 'node:net';
import fc from 'fast-check';

// Raw HTTP/1.1 for fuzz.test.ts: what `inject` cannot send (over-long request lines and headers,
// broken syntax and framing) goes over a real socket to Node's parser.

const latin1 = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));

const ODD_HEADERS: [string, string][] = [
  ['Bad Name', 'x'],
  ['X-Nul', 'a\u0000b'],
  ['X-Fold', 'a\r\n b'],
  ['', 'empty-name'],
  ['X-Lf', 'a\nb'],
  ['X-Cr', 'a\rb'],
  ['Content-Length', 'abc'],
  ['Content-Length', '-1'],
  ['Content-Length', '1, 2'],
  ['Transfer-Encoding', 'chunked, identity'],
  ['Transfer-Encoding', 'gzip'],
  ['Expect', '100-continue'],
  ['Expect', 'teapot'],
  ['Upgrade', 'websocket'],
  ['Connection', 'upgrade'],
];

/** Whole requests as text (one per connection, `Connection: close`), each piece valid or broken. */
export function rawRequests(routes: string[]): fc.Arbitrary<string> {
  const paths = routes.map((r) => (r.split(' ')[1] as string).replaceAll(/:\w+|\*/g, crypto.randomUUID()));
  const target = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...paths) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 50, max: 40_000 }).map((n) => `/v1/session-requests/${'a'.repeat(n)}`),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '*',
        'http://evil.example/healthz',
        '/%',
        '/healthz?%',
        '/ spaces /',
        '/\u00e9',
        '/\u0001',
        '//',
        '/healthz#frag',
        '',
        'healthz',
      ),
    },
  );
  const header = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ unit: latin1 })) },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.constantFrom('X-Big', 'Cookie', 'Authorization', 'X-Request-Id'),
        fc.integer({ min: 1000, max: 40_000 }).map((n) => 'b'.repeat(n)),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_HEADERS) },
  );
  const body = fc.constantFrom('', '{}', '{"session_type":"v","plan_code":"p"}', '{"a":', 'x'.repeat(70 * 1024));
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'BREW', 'get', ''),
      target,
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 x'),
      host: fc.constantFrom('Host: 127.0.0.1', 'Host: 127.0.0.1', 'Host: a b', ''),
      headers: fc.array(header, { maxLength: 5 }),
      body,
      framing: fc.constantFrom('length', 'length', 'chunked', 'broken-chunked', 'both', 'none'),
    })
    .map((r) => {
      const lines = [`${r.method} ${r.target} ${r.version}`];
      if (r.host) lines.push(r.host);
      for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
      lines.push('Connection: close');
      let payload = '';
      if (r.body && r.framing !== 'none') {
        lines.push('Content-Type: application/json');
        if (r.framing === 'length' || r.framing === 'both') lines.push(`Content-Length: ${Buffer.byteLength(r.body)}`);
        if (r.framing !== 'length') lines.push('Transfer-Encoding: chunked');
        payload =
          r.framing === 'length'
            ? r.body
            : r.framing === 'broken-chunked'
              ? `zz\r\n${r.body}\r\n0\r\n\r\n`
              : `${Buffer.byteLength(r.body).toString(16)}\r\n${r.body}\r\n0\r\n\r\n`;
      }
      return `${lines.join('\r\n')}\r\n\r\n${payload}`;
    });
}

export interface RawResponse {
  status: number;
  head: string;
  contentType: string | undefined;
  body: string;
}

/**
 * Sends `request` (latin1) on a fresh connection and parses the first response. The connection
 * is not half-closed: Node's server aborts a request still in progress when its client ends.
 */
export function rawExchange(port: number, request: string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(request, 'latin1')));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(request.slice(0, 200))}`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const head = end < 0 ? raw : raw.slice(0, end);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? Number.NaN);
      if (Number.isNaN(status)) {
        reject(
          new Error(
            `no HTTP response (got ${JSON.stringify(raw.slice(0, 200))}) to ${JSON.stringify(request.slice(0, 200))}`,
          ),
        );
        return;
      }
      const headers = new Map(
        head
          .split('\r\n')
          .slice(1)
          .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
      );
      let body = end < 0 ? '' : raw.slice(end + 4);
      if (headers.get('transfer-encoding') === 'chunked') body = dechunk(body);
      else if (headers.has('content-length')) body = body.slice(0, Number(headers.get('content-length')));
      resolve({ status, head, contentType: headers.get('content-type'), body: Buffer.from(body, 'latin1').toString() });
    });
  });
}

function dechunk(s: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', at);
    const size = Number.parseInt(s.slice(at, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
