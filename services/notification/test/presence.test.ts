import { cleanupNats, createTestDatabase, eventually, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support/clients.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { seedMechanic } from './support/seed.js';

let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwk');
  gw = await startGateway(db, prefix, { GATEWAY_PRESENCE_TTL_MS: '1500' });
});
afterAll(async () => {
  await gw.close();
  await cleanupNats(prefix);
  await db.drop();
});

describe('presence with a short TTL', () => {
  it('expires entries by the bucket TTL, and keeps a connected mechanic present by refreshing it', async () => {
    const info = await (await jetstreamManager(gw.nc)).streams.info(`KV_${prefix}_presence`);
    expect(info.config.max_age).toBe(1_500_000_000);
    const kv = await new Kvm(jetstream(gw.nc)).open(`${prefix}_presence`);
    const id = await seedMechanic(db);
    const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
    const key = `${id}.${gw.gateway.instanceId}`;
    await eventually(async () => (await kv.get(key))?.operation === 'PUT', 5000, 'the entry');
    // Three TTLs later it is still there: the gateway rewrote it meanwhile.
    await new Promise((r) => setTimeout(r, 4500));
    const entry = await kv.get(key);
    expect(entry?.json()).toMatchObject({ mechanic_id: id, connections: 1 });
    expect(Date.now() - Date.parse(entry?.json<{ updated_at: string }>().updated_at ?? '')).toBeLessThan(1500);
    await client.close();
  });
});
