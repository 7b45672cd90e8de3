import { randomUUID } from 'node:crypto';
import { cleanupNats, createTestDatabase, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusedHandshake } from './support/clients.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { seedCustomer, seedMechanic } from './support/seed.js';

let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwh');
  gw = await startGateway(db, prefix, {
    GATEWAY_ALLOWED_ORIGINS: 'https://app.dibs.example',
    GATEWAY_MAX_CONNECTIONS_PER_MECHANIC: '2',
  });
});
afterAll(async () => {
  await gw.close();
  await cleanupNats(prefix);
  await db.drop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the handshake', () => {
  it('greets a mechanic with hello, then a snapshot', async () => {
    const mechanicId = await seedMechanic(db);
    const client = await connect(gw.wsUrl, await tokenFor('mechanic', mechanicId));
    const [hello, snapshot] = client.frames;
    expect(hello).toMatchObject({ type: 'hello', role: 'mechanic', user_id: mechanicId, heartbeat_ms: 15_000 });
    expect(typeof hello?.id).toBe('string');
    expect(new Date(String(hello?.at)).toISOString()).toBe(hello?.at);
    expect(snapshot).toMatchObject({ type: 'snapshot', open_requests: [] });
    expect(snapshot?.id).not.toBe(hello?.id);
    await client.close();
  });

  it('greets a customer with hello only', async () => {
    const customerId = await seedCustomer(db);
    const client = await connect(gw.wsUrl, await tokenFor('customer', customerId));
    // Shows no snapshot follows the hello: a fixed wait, nothing to await.
    await new Promise((r) => setTimeout(r, 200));
    expect(client.types()).toEqual(['hello']);
    expect(client.frames[0]).toMatchObject({ role: 'customer', user_id: customerId });
    await client.close();
  });

  it('accepts the token as ?token= for browsers', async () => {
    const customerId = await seedCustomer(db);
    const client = await connect(gw.wsUrl, await tokenFor('customer', customerId), { viaQuery: true });
    expect(client.frames[0]?.type).toBe('hello');
    await client.close();
  });

  it('refuses a missing, malformed, wrongly signed or expired token with 401, never upgraded', async () => {
    const mechanicId = await seedMechanic(db);
    const expired = await tokenFor('mechanic', mechanicId, -10);
    const good = await tokenFor('mechanic', mechanicId);
    const forged = `${good.slice(0, -4)}AAAA`;
    for (const headers of [{}, bearer('not-a-jwt'), bearer(forged), bearer(expired)]) {
      const res = await refusedHandshake(gw.wsUrl, headers);
      expect(res).toMatchObject({ status: 401, upgraded: false });
      expect(res.body).toMatchObject({ status: 401 });
    }
    const viaQuery = await refusedHandshake(`${gw.wsUrl}?token=${expired}`, {});
    expect(viaQuery).toMatchObject({ status: 401, upgraded: false, body: { code: 'token_expired' } });
  });

  it('refuses a token naming a mechanic or customer that does not exist with 401', async () => {
    for (const role of ['mechanic', 'customer'] as const) {
      const res = await refusedHandshake(gw.wsUrl, bearer(await tokenFor(role, randomUUID())));
      expect(res).toMatchObject({ status: 401, upgraded: false, body: { code: 'unknown_principal' } });
    }
  });

  it('refuses an admin token with 403', async () => {
    const res = await refusedHandshake(gw.wsUrl, bearer(await tokenFor('admin', randomUUID())));
    expect(res).toMatchObject({ status: 403, upgraded: false, body: { code: 'forbidden' } });
  });

  it('refuses a browser Origin outside the allowlist with 403 and admits one inside it', async () => {
    const customerId = await seedCustomer(db);
    const token = await tokenFor('customer', customerId);
    const res = await refusedHandshake(gw.wsUrl, bearer(token), 'https://evil.example');
    expect(res).toMatchObject({ status: 403, upgraded: false, body: { code: 'origin_not_allowed' } });
    const client = await connect(gw.wsUrl, token, { origin: 'https://app.dibs.example' });
    await client.close();
  });

  it('caps the connections of one mechanic, also when they race', async () => {
    const mechanicId = await seedMechanic(db);
    const token = await tokenFor('mechanic', mechanicId);
    const attempts = await Promise.allSettled([1, 2, 3].map(() => connect(gw.wsUrl, token)));
    const opened = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(opened).toHaveLength(2);
    const refused = attempts.find((a) => a.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toContain('429');
    const res = await refusedHandshake(gw.wsUrl, bearer(token));
    expect(res).toMatchObject({ status: 429, upgraded: false, body: { code: 'too_many_connections' } });
    await opened[0]?.close();
    const again = await connect(gw.wsUrl, token);
    await Promise.all([again.close(), opened[1]?.close()]);
  });

  it('answers a plain GET (no upgrade) with 426 and serves the probes', async () => {
    const customerId = await seedCustomer(db);
    const plain = await fetch(`${gw.httpUrl}/v1/ws`, { headers: bearer(await tokenFor('customer', customerId)) });
    expect(plain.status).toBe(426);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      checks: { database: 'ok', nats: 'ok', accepting: 'ok', notifications: 'ok' },
    });
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(metrics).toContain('dibs_gateway_connections{role="mechanic"');
    expect(metrics).toContain('dibs_gateway_handshake_rejections_total{status="401"');
  });
});
