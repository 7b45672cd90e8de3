import { randomUUID } from 'node:crypto';

// What the demo's stories use to talk to dibs as its clients do: the HTTP API with a bearer token,
// and WebSockets whose frames are buffered so a story can await them in the order it tells them.

/** `api(method, path, token, body, expectedStatus)` → the parsed body; any other status throws. */
export function createApi(base) {
  return async (method, path, token, body, expected) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== expected)
      throw new Error(`${method} ${path} answered ${res.status} (expected ${expected}): ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** Opens a socket (token in the query, as a browser would) and buffers its frames. */
export function connect(gatewayUrl, token, sockets) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${gatewayUrl}/v1/ws?token=${encodeURIComponent(token)}`);
    const frames = [];
    const waiters = [];
    socket.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data));
      frames.push(frame);
      for (const w of [...waiters]) {
        if (w.match(frame)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    socket.addEventListener('error', () => reject(new Error(`WebSocket to ${gatewayUrl} failed`)), { once: true });
    const client = {
      send: (frame) => socket.send(JSON.stringify(frame)),
      close: () => socket.close(),
      /** Every frame received so far matching `match`, in arrival order. */
      seen: (match) => frames.filter(match),
      next(match, timeoutMs, what) {
        const seen = frames.find(match);
        if (seen) return Promise.resolve(seen);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({
            match,
            resolve: (f) => {
              clearTimeout(timer);
              res(f);
            },
          });
        });
      },
    };
    sockets.push(client);
    socket.addEventListener(
      'open',
      () => client.next((f) => f.type === 'hello', 10_000, 'hello').then(() => resolve(client), reject),
      {
        once: true,
      },
    );
  });
}

/** Sends an accept/decline over the socket and resolves to the gateway's `result` frame. */
export async function command(client, type, requestId, timeoutMs) {
  const ref = randomUUID();
  client.send({ type, request_id: requestId, ref });
  return client.next((f) => f.type === 'result' && f.ref === ref, timeoutMs, `result of ${type}`);
}

export const matchesRequest = (frame, id) => frame.request?.id === id || frame.request_id === id;
export const email = (name) => `${name}+${randomUUID().slice(0, 8)}@demo.dibs.test`;
export const short = (id) => id.slice(0, 8);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
