import { connect } from 'node:net';
import fc from 'fast-check';

// Raw WebSocket handshakes for fuzz.test.ts: any method, path, token, origin and upgrade headers.

/** A handshake request line and headers, valid or broken, with any token, origin and upgrade headers. */
export function handshakes(tokens: fc.Arbitrary<string | undefined>): fc.Arbitrary<string> {
  /** Mostly `usual` (the well-formed value, or '' for "absent"), now and then one of `odd`. */
  const header = (name: string, usual: string, odd: fc.Arbitrary<string>) =>
    fc
      .oneof(
        { weight: 5, arbitrary: fc.constant(usual) },
        { weight: 2, arbitrary: odd },
        { weight: 1, arbitrary: fc.constant('') },
      )
      .map((v) => (v === '' ? '' : `${name}: ${v}\r\n`));
  const latin1 = fc.string({
    unit: fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((c) => String.fromCharCode(c)),
    maxLength: 40,
  });
  const mostly = <T>(usual: T, ...odd: T[]) =>
    fc.oneof({ weight: 5, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
  return fc
    .record({
      method: mostly('GET', 'POST', 'PUT', 'OPTIONS', 'HEAD'),
      host: mostly('Host: 127.0.0.1\r\n', ''),
      path: mostly('/v1/ws', '/v1/ws/', '/v1/WS', '/v1/ws?x=%zz', '/v1/ws/%E0%A4%A', '/nope'),
      queryToken: fc.option(
        fc.oneof(
          tokens.map((t) => t ?? ''),
          latin1.map(encodeURIComponent),
        ),
        {
          freq: 3,
          nil: undefined,
        },
      ),
      bearer: fc.option(fc.oneof({ weight: 4, arbitrary: tokens.map((t) => (t ? `Bearer ${t}` : 'Bearer')) }, latin1), {
        freq: 4,
        nil: undefined,
      }),
      upgrade: header('Upgrade', 'websocket', fc.constantFrom('WebSocket', 'h2c', 'websocket, h2c')),
      connection: header('Connection', 'Upgrade', fc.constantFrom('keep-alive, Upgrade', 'close', 'keep-alive')),
      key: header(
        'Sec-WebSocket-Key',
        'dGhlIHNhbXBsZSBub25jZQ==',
        fc.oneof(fc.constantFrom('short', 'dGhlIHNhbXBsZSBub25jZQ', '!!!!!!!!!!!!!!!!!!!!!!=='), latin1),
      ),
      version: header('Sec-WebSocket-Version', '13', fc.constantFrom('8', '0', '99', 'x', '13, 13', '013')),
      origin: header('Origin', '', fc.constantFrom('http://evil.example', 'null', 'http://localhost:3004')),
      protocol: header(
        'Sec-WebSocket-Protocol',
        '',
        fc.oneof(fc.constantFrom('chat', 'chat, chat', ',,,', 'a b'), latin1),
      ),
      extensions: header('Sec-WebSocket-Extensions', '', fc.constantFrom('permessage-deflate', 'x; y=', ';;;')),
    })
    .map((r) => {
      const target =
        r.queryToken === undefined ? r.path : `${r.path}${r.path.includes('?') ? '&' : '?'}token=${r.queryToken}`;
      return (
        `${r.method} ${target} HTTP/1.1\r\n${r.host}` +
        (r.bearer === undefined ? '' : `Authorization: ${r.bearer}\r\n`) +
        r.upgrade +
        r.connection +
        r.key +
        r.version +
        r.origin +
        r.protocol +
        r.extensions +
        '\r\n'
      );
    });
}

export interface HandshakeAnswer {
  status: number;
  contentType: string | undefined;
  body: string;
  raw: string;
}

/** Sends a raw handshake and reads the answer's status line, headers and body (a 101 is cut right away). */
export function rawHandshake(port: number, request: string, timeoutMs = 10_000): Promise<HandshakeAnswer> {
  return new Promise((resolve, reject) => {
    let raw = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(request, 'latin1')));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (got ${JSON.stringify(raw.slice(0, 200))})`));
    }, timeoutMs);
    const done = () => {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const head = raw.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? Number.NaN);
      const headers = new Map(
        head
          .split('\r\n')
          .slice(1)
          .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const),
      );
      // A HEAD answer announces its body's length but sends none.
      const length = request.startsWith('HEAD ') ? 0 : Number(headers.get('content-length') ?? 0);
      const body = Buffer.from(raw.slice(end + 4), 'latin1');
      if (status !== 101 && body.length < length) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, contentType: headers.get('content-type'), body: body.subarray(0, length).toString(), raw });
      return true;
    };
    socket.on('data', (c) => {
      raw += c.toString('latin1');
      done();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!done()) {
        clearTimeout(timer);
        resolve({ status: Number.NaN, contentType: undefined, body: '', raw });
      }
    });
  });
}
