import { randomUUID } from 'node:crypto';
import { CLIENT_FRAME_TYPES, MechanicCommandSchema, natsNames, SeenEventSchema } from '@dibs/contracts';
import {
  cleanupNats,
  createTestDatabase,
  eventually,
  type TestDatabase,
  tableChecksums,
  testPrefix,
  tokenFor,
} from '@dibs/testing';
import type { Subscription } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type Frame, type TestClient } from './support/clients.js';
import { clientFrames, type FuzzFrame, wellFormedFrames } from './support/fuzz.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { handshakes, rawHandshake } from './support/handshakes.js';
import { requestRow, seedCustomer, seedMechanic, seedRequest } from './support/seed.js';

// CONTRACT §4 under hostile input (issue 10 §3): every kind of client frame from every kind of
// connection, and random handshakes. Every frame gets its answer (pong, result, or an error frame
// with a code; a seen of an offer the connection got gets none) unless repeated abuse closed the
// socket with 1008; commands reach routing only when well-formed and only as the connection's own
// mechanic; a seen is published once per connection and only for an offer it got (CONTRACT §7);
// nothing is written; the gateway stays ready. FUZZ_SEED replays another seed; FUZZ_RUNS scales
// the number of runs.

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_510);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

const ABUSE_LIMIT = 10;
const ANSWERS = new Set(['pong', 'result', 'error']);

type Who = 'mechanic' | 'pending_mechanic' | 'customer';

/** One user's connection, reopened when abuse closed it. */
class Session {
  client: TestClient | undefined;
  /** Frames refused on the current connection (each one a strike). */
  refused = 0;
  /** The current connection published its seen of the snapshot's broadcast. */
  seenSent = false;
  /** The current connection won that broadcast (routing's stand-in accepts it): its offer is over. */
  won = false;
  constructor(
    readonly who: Who,
    readonly userId: string,
    readonly token: string,
  ) {}
  async open(): Promise<TestClient> {
    if (this.client && this.client.closeCode === undefined && this.client.ws.readyState === WebSocket.OPEN) {
      return this.client;
    }
    if (this.client) {
      // Only repeated abuse closes a socket, and only after that many refusals.
      expect(await this.client.closed).toBe(1008);
      expect(this.refused).toBeGreaterThanOrEqual(ABUSE_LIMIT);
      abuseCloses++;
    }
    this.client = await connect(gw.wsUrl, this.token);
    this.refused = 0;
    this.seenSent = false;
    this.won = false;
    return this.client;
  }
}

let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;
const sessions = {} as Record<Who, Session>;
let requestIds: string[];
const forwarded: { mechanic_id: string; request_id: string }[] = [];
const offContract: unknown[] = [];
let expectedForwards = 0;
/** Seen acks the gateway published, and how many the sessions' frames should have made it publish. */
const seenPublished: unknown[] = [];
let expectedSeens = 0;
/** Connections closed with 1008 (and reopened) during the fuzzing. */
let abuseCloses = 0;
let stubs: Subscription[] = [];
/** Every table's checksum: a refused request must leave them all as they were. */
let snapshot: () => Promise<Record<string, string>>;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwf');
  gw = await startGateway(db, prefix, {
    // The highest rate, so that what is tested is each frame's own answer; flooding has its own test.
    GATEWAY_RATE_LIMIT: '10000',
    GATEWAY_ABUSE_LIMIT: String(ABUSE_LIMIT),
    GATEWAY_COMMAND_TIMEOUT_MS: '2000',
  });
  const customerId = await seedCustomer(db);
  for (const [who, id] of [
    ['mechanic', await seedMechanic(db)],
    ['pending_mechanic', await seedMechanic(db, 'pending')],
    ['customer', customerId],
  ] as const) {
    sessions[who] = new Session(who, id, await tokenFor(who === 'customer' ? 'customer' : 'mechanic', id));
  }
  requestIds = [
    await seedRequest(db, { customerId, broadcast: true }),
    await seedRequest(db, { customerId, status: 'accepted' }),
  ];
  stubs = [
    ...stubRouting(),
    gw.nc.subscribe(natsNames(prefix).subjects.seen, {
      callback: (_err, msg) => {
        seenPublished.push(msg.json());
      },
    }),
  ];
  snapshot = await tableChecksums(db);
});

afterAll(async () => {
  for (const s of stubs) s.unsubscribe();
  await Promise.all(Object.values(sessions).map((s) => s.client?.close()));
  await gw?.close();
  await cleanupNats(prefix);
  await db?.drop();
});

describe('fuzzing client frames', () => {
  it('has a generator for every client frame type the contract lists', () => {
    expect([...CLIENT_FRAME_TYPES].sort(), 'frame types without a generator in support/fuzz.ts').toEqual(
      Object.keys(wellFormedFrames(requestIds)).sort(),
    );
  });

  it('answers every frame as the contract says, or closes with 1008 after repeated abuse', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Who>('mechanic', 'pending_mechanic', 'customer'),
        fc.array(clientFrames(requestIds), { minLength: 1, maxLength: 8 }),
        async (who, frames) => {
          for (const frame of frames) await exchange(sessions[who], frame);
        },
      ),
      runs(600),
    );
    expect(await snapshot(), 'no frame writes a row').toEqual(before);
    // The run did reach the abuse limit (and reconnected), so the 1008 path was checked too.
    expect(abuseCloses).toBeGreaterThan(0);
  });

  it('forwarded exactly the well-formed commands of mechanics to routing, as their own', () => {
    expect(offContract).toEqual([]);
    expect(forwarded.length).toBe(expectedForwards);
    const mechanics = [sessions.mechanic.userId, sessions.pending_mechanic.userId];
    for (const c of forwarded) expect(mechanics).toContain(c.mechanic_id);
  });

  it('published a seen once per connection, only for the offer the connection got', async () => {
    expect(expectedSeens).toBeGreaterThan(0);
    await eventually(() => seenPublished.length >= expectedSeens, 5000, 'every seen to be published');
    expect(seenPublished).toHaveLength(expectedSeens);
    for (const event of seenPublished) {
      expect(SeenEventSchema.parse(event)).toMatchObject({
        request_id: requestIds[0],
        mechanic_id: sessions.mechanic.userId,
        offer: 'broadcast',
        tier: null,
      });
    }
  });

  it('closes a socket sending a frame over 1 MiB (1009), and the gateway carries on', async () => {
    const client = await connect(gw.wsUrl, sessions.mechanic.token);
    client.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(1 << 20) }));
    expect(await client.closed).toBe(1009);
  });

  it('closes a socket sending text that is not UTF-8 (1007), and the gateway carries on', async () => {
    const client = await connect(gw.wsUrl, sessions.customer.token);
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await client.closed).toBe(1007);
  });

  it('answers random handshakes with 101 (valid token only) or a problem+json refusal, never a 5xx', async () => {
    const valid = Object.values(sessions).map((s) => s.token);
    const tokens = fc.oneof(
      fc.constantFrom(...valid),
      fc.constantFrom(undefined, 'not.a.jwt', 'a.b.c'),
      fc.constant(await tokenFor('admin', randomUUID())),
      fc.constant(await tokenFor('mechanic', randomUUID())),
      fc.constant(await tokenFor('customer', sessions.customer.userId, -60)),
    );
    const { port } = new URL(gw.wsUrl);
    const before = await openConnections();
    await fc.assert(
      fc.asyncProperty(handshakes(tokens), async (request) => {
        const answer = await rawHandshake(Number(port), request);
        expect(answer.status, answer.raw.slice(0, 300)).toBeLessThan(500);
        if (answer.status === 101) {
          expect(valid.some((t) => request.includes(t))).toBe(true);
          return;
        }
        expect(answer.status, answer.raw.slice(0, 300)).toBeGreaterThanOrEqual(400);
        expect(answer.contentType, answer.raw.slice(0, 300)).toMatch(/^application\/problem\+json/);
        if (request.startsWith('HEAD ')) return;
        expect(JSON.parse(answer.body)).toMatchObject({
          type: expect.any(String),
          title: expect.any(String),
          status: answer.status,
          code: expect.any(String),
        });
      }),
      runs(400),
    );
    // Every refused handshake's connection is closed by the server, not left open for good.
    await eventually(async () => (await openConnections()) <= before, 5000, 'refused handshakes to be closed');
  });

  it.each([
    ['Upgrade: h2c', { upgrade: 'h2c' }],
    ['no Sec-WebSocket-Key', { 'sec-websocket-key': undefined }],
    ['a Sec-WebSocket-Key that is not 16 bytes', { 'sec-websocket-key': 'c2hvcnQ=' }],
    ['Sec-WebSocket-Version: 99', { 'sec-websocket-version': '99' }],
    ['Sec-WebSocket-Protocol: a b', { 'sec-websocket-protocol': 'a b' }],
    ['Sec-WebSocket-Protocol: chat, chat', { 'sec-websocket-protocol': 'chat, chat' }],
  ])('refuses a handshake with %s with 400 problem+json (not ws text/html)', async (_what, change) => {
    const headers: Record<string, string | undefined> = {
      authorization: `Bearer ${sessions.customer.token}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      ...change,
    };
    const lines = Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${v}\r\n`]));
    const answer = await rawHandshake(
      Number(new URL(gw.wsUrl).port),
      `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}\r\n`,
    );
    expect(answer.status, answer.raw).toBe(400);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: 'bad_handshake' });
  });

  it('is still ready, and serves a new connection, after the fuzzing', async () => {
    const ready = await fetch(`${gw.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    const client = await connect(gw.wsUrl, sessions.mechanic.token);
    client.send({ type: 'ping' });
    await client.nextOf('pong');
    await client.close();
  });
});

/** Sends one frame on the session's connection and checks its answer against what the frame is. */
async function exchange(session: Session, frame: FuzzFrame): Promise<void> {
  const client = await session.open();
  const seen = new Set(client.frames);
  const expected = frame.expected;
  // The approved mechanic's snapshot offers it the broadcast requestIds[0]; nothing else is offered.
  const silent =
    expected.answer === 'seen' && session.who === 'mechanic' && expected.requestId === requestIds[0] && !session.won;
  client.ws.send(frame.data, { binary: frame.binary });
  // A seen that counts gets no answer: the ping after it is answered first.
  if (silent) client.send({ type: 'ping' });
  let answer: Frame;
  try {
    answer = await client.next((f) => !seen.has(f) && ANSWERS.has(f.type), 10_000, 'an answer');
  } catch (err) {
    // Closed before this frame was read: open() checks why on the next frame.
    expect(client.closeCode, (err as Error).message).toBeDefined();
    return;
  }
  expect(answer).toMatchObject({ id: expect.any(String), at: expect.any(String) });
  switch (expected.answer) {
    case 'pong':
      expect(answer.type).toBe('pong');
      return;
    case 'seen':
      if (silent) {
        expect(answer.type).toBe('pong');
        if (!session.seenSent) expectedSeens++;
        session.seenSent = true;
      } else {
        // Not a strike: an honest app meets not_offered too.
        expect(answer).toMatchObject({ type: 'error', code: 'not_offered' });
      }
      return;
    case 'error':
      expect(answer).toMatchObject({ type: 'error', code: expected.code });
      session.refused++;
      return;
    case 'result':
      expect(answer).toMatchObject({ type: 'result', ok: false, code: 'invalid_command' });
      expect(answer.ref).toEqual(expected.ref === undefined ? null : JSON.parse(expected.ref));
      session.refused++;
      return;
    case 'command': {
      expect(answer.type).toBe('result');
      expect(answer.ref).toEqual(expected.ref === undefined ? null : JSON.parse(expected.ref));
      if (session.who === 'customer') {
        expect(answer).toMatchObject({ ok: false, code: 'forbidden' });
        return;
      }
      expectedForwards++;
      if (requestIds.includes(expected.requestId)) {
        expect(answer).toMatchObject({ ok: true, request: { id: expected.requestId } });
        // Routing's stand-in lets it win: the connection's offer of the broadcast is over.
        if (expected.command === 'accept' && expected.requestId === requestIds[0]) session.won = true;
      } else {
        expect(answer).toMatchObject({ ok: false, code: 'not_found' });
      }
    }
  }
}

/** Routing's stand-in: answers accept/decline of known requests with the request, others not_found. */
function stubRouting(): Subscription[] {
  const names = natsNames(prefix);
  return (['accept', 'decline'] as const).map((command) =>
    gw.nc.subscribe(names.subjects.routingCommand(command), {
      callback: (_err, msg) => {
        void (async () => {
          const parsed = MechanicCommandSchema.safeParse(msg.json());
          if (!parsed.success) {
            offContract.push(msg.string());
            msg.respond(JSON.stringify({ ok: false, code: 'invalid_command' }));
            return;
          }
          forwarded.push(parsed.data);
          const known = requestIds.includes(parsed.data.request_id);
          msg.respond(
            JSON.stringify(
              known
                ? { ok: true, request: await requestRow(db, parsed.data.request_id) }
                : { ok: false, code: 'not_found' },
            ),
          );
        })();
      },
    }),
  );
}

function openConnections(): Promise<number> {
  return new Promise((resolve, reject) =>
    gw.gateway.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}
