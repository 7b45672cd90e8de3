import { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../src/index.js';

// Found by the HTTP fuzzing of issue 10 §3: what Node refuses on its own answered with a bare
// or application/json body, a refused WebSocket handshake kept its socket open forever, and
// a JSON body that is not UTF-8 was stored with U+FFFD in place of its bad bytes.

let app: HttpApp;
let port: number;

beforeAll(async () => {
  ({ app } = await createHttpApp({ service: 'http-test', logLevel: 'silent' }));
  app.get('/x', async () => ({ ok: true }));
  app.post('/echo', async (request) => request.body);
  // What @fastify/websocket does with an upgrade: route it through Fastify on the raw socket.
  app.server.on('upgrade', (request, socket) => {
    const response = new ServerResponse(request);
    response.assignSocket(socket as import('node:net').Socket);
    app.routing(request, response);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await app?.close();
});

/** Writes `request` on a new connection; resolves with everything read once the server closes it. */
function exchange(request: string, to = port): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    const socket = connect(to, '127.0.0.1', () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; got ${JSON.stringify(raw)}`));
    }, 3000);
    socket.on('data', (c) => {
      raw += c.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(raw);
    });
  });
}

function problemOf(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    contentType: /^content-type: (.*)$/im.exec(head)?.[1],
    body: JSON.parse(body),
  };
}

describe("what Node's HTTP server refuses is problem+json too", () => {
  it.each([
    ['a header block over the size limit', `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
    ['a request line over the size limit', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 431],
    ['a request that is not HTTP', 'GARBAGE\r\n\r\n', 400],
    ['a header name with a space', 'GET /x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n', 400],
    [
      'both Content-Length and chunked',
      'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    ],
    ['an HTTP/1.1 request without Host', 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    [
      'an Expect other than 100-continue',
      'GET /x HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nConnection: close\r\n\r\n',
      417,
    ],
  ])('%s → %i', async (_what, request, status) => {
    const res = problemOf(await exchange(request));
    expect(res.status).toBe(status);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status,
      type: expect.any(String),
      title: expect.any(String),
      code: expect.any(String),
    });
  });

  it('still serves an ordinary request', async () => {
    expect(await exchange('GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('a WebSocket handshake refused before the WebSocket plugin sees it', () => {
  it.each([
    ['by the router (bad percent-encoding)', 'GET /x/%E0%A4%A HTTP/1.1\r\nHost: a\r\n', 'bad_url'],
    ['by a hook (no Host)', 'GET /x HTTP/1.1\r\n', 'missing_host'],
  ])('%s gets 400 problem+json and its connection closed (not kept open for good)', async (_what, start, code) => {
    const raw = await exchange(`${start}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    const res = problemOf(raw);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code });
    expect(raw).toMatch(/^connection: close$/im);
  });
});

describe('a request that arrives while the app closes', () => {
  it('gets 503 problem+json, and a WebSocket handshake has its connection closed so close() can end', async () => {
    const { app: closing } = await createHttpApp({ service: 'http-test', logLevel: 'silent' });
    closing.get('/x', async () => ({ ok: true }));
    closing.server.on('upgrade', (request, socket) => {
      const response = new ServerResponse(request);
      response.assignSocket(socket as import('node:net').Socket);
      closing.routing(request, response);
    });
    // The listener stops only after the preClose hooks: what arrives during them is what arrives
    // while the app closes (a client reconnecting at once to a gateway that is shutting down).
    const answers: string[] = [];
    const UPGRADE = 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n';
    closing.addHook('preClose', async () => {
      for (const request of [`${UPGRADE}\r\n`, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n']) {
        answers.push(await exchange(request, own).catch((err: Error) => err.message));
      }
    });
    await closing.listen({ port: 0, host: '127.0.0.1' });
    const own = (closing.server.address() as { port: number }).port;

    await closing.close();
    expect(answers).toHaveLength(2);
    for (const raw of answers) {
      const res = problemOf(raw);
      expect(res.status).toBe(503);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 503, code: 'shutting_down' });
      expect(raw).toMatch(/^retry-after: 1$/im);
      expect(raw).toMatch(/^connection: close$/im);
    }
  });
});

describe('a JSON body that is not UTF-8', () => {
  it.each([
    ['an invalid byte', '{"name":"A\xffB"}'],
    ['a surrogate in UTF-8 form (CESU-8)', '{"name":"\xed\xa0\x80"}'],
    ['an overlong NUL', '{"name":"\xc0\x80"}'],
  ])('with %s is refused with 400 invalid_json (never read as U+FFFD)', async (_what, body) => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.from(body, 'latin1'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'invalid_json', detail: 'the body is not valid UTF-8' });
  });

  it('is parsed as before when it is UTF-8, prototype keys still refused', async () => {
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        payload,
      });
    expect((await post('{"name":"Ann 🔧 é"}')).json()).toEqual({ name: 'Ann 🔧 é' });
    expect((await post('{"__proto__":{"x":1}}')).statusCode).toBe(400);
    expect((await post('')).json()).toMatchObject({ status: 400, code: 'invalid_json' });
  });
});
