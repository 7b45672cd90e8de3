import { randomUUID } from 'node:crypto';
import { contracts, natsNames, type SessionRequest } from '@dibs/contracts';
import { createLogger } from '@dibs/logger';
import { cleanupNats, connectTestNats, testPrefix } from '@dibs/testing';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, serve } from '../src/index.js';

let nc: NatsConnection;
const prefix = testPrefix('rr');
const names = natsNames(prefix);
const subs: Subscription[] = [];
const silentLogger = createLogger({ service: 'nats-test', level: 'silent' });
beforeAll(async () => {
  nc = await connectTestNats();
});
afterEach(() => {
  for (const s of subs.splice(0)) s.unsubscribe();
});
afterAll(async () => {
  await nc.close();
  await cleanupNats(prefix);
});

const request_id = randomUUID();
const mechanic_id = randomUUID();

describe('typed request-reply', () => {
  it("validates the request with the entry's payload schema and parses the reply with its reply schema", async () => {
    const seen: unknown[] = [];
    subs.push(
      serve(
        nc,
        names,
        contracts.routing.decline,
        `${prefix}_q`,
        async (cmd) => {
          seen.push(cmd);
          return { ok: false, code: 'not_pending' };
        },
        silentLogger,
      ),
    );
    await nc.flush();
    expect(await request(nc, names, contracts.routing.decline, { request_id, mechanic_id })).toEqual({
      ok: false,
      code: 'not_pending',
    });
    expect(seen).toEqual([{ request_id, mechanic_id }]);
    // A command of another shape never reaches the handler.
    const wrong = await nc.request(names.abs(contracts.routing.decline.subject), JSON.stringify({ request_id }));
    expect(wrong.json()).toMatchObject({ ok: false, code: 'invalid_command' });
    const notJson = await nc.request(names.abs(contracts.routing.decline.subject), 'not json {');
    expect(notJson.json()).toMatchObject({ ok: false, code: 'invalid_command', detail: 'body is not JSON' });
    expect(seen).toHaveLength(1);
  });

  it('answers unavailable when the handler throws', async () => {
    subs.push(
      serve(
        nc,
        names,
        contracts.analytics.mechanic_stats,
        `${prefix}_q`,
        async () => {
          throw new Error('database down');
        },
        silentLogger,
      ),
    );
    await nc.flush();
    expect(await request(nc, names, contracts.analytics.mechanic_stats, { mechanic_id })).toEqual({
      ok: false,
      code: 'unavailable',
      detail: 'try again',
    });
  });

  it('throws when the reply is off the contract, or when nobody answers', async () => {
    subs.push(
      nc.subscribe(names.abs(contracts.analytics.timeout_rate.subject), {
        callback: (_err, msg) => void msg.respond(JSON.stringify({ ok: true, data: { timeout_rate: 'high' } })),
      }),
    );
    await nc.flush();
    await expect(request(nc, names, contracts.analytics.timeout_rate, {})).rejects.toThrow();
    await expect(
      request(nc, names, contracts.routing.cancel, { request_id, customer_id: randomUUID() }, 200),
    ).rejects.toThrow();
  });

  it('types payloads and replies by the entry (compile-time)', async () => {
    const typed = async () => {
      // @ts-expect-error cancel takes a customer_id, not a mechanic_id
      await request(nc, names, contracts.routing.cancel, { request_id, mechanic_id });
      const reply = await request(nc, names, contracts.analytics.timeout_rate, {});
      // @ts-expect-error timeout_rate has no avg_response_minutes
      if (reply.ok) return reply.data.avg_response_minutes;
      serve(
        nc,
        names,
        contracts.routing.accept,
        'q',
        // @ts-expect-error a routing reply carries a session request, not report data
        async () => ({ ok: true, data: {} as SessionRequest }),
        silentLogger,
      );
    };
    expect(typed).toBeTypeOf('function');
  });
});
