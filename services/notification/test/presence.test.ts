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
    const first = await eventually(
      async () => {
        const e = await kv.get(key);
        return e?.operation === 'PUT' && e;
      },
      5000,
      'the entry',
    );
    const firstSeen = Date.now();
    // Still there more than a TTL (1.5 s) after it was first written, rewritten meanwhile: without
    // the gateway's refresh the bucket would have dropped it by now.
    const entry = await eventually(
      async () => {
        if (Date.now() - firstSeen <= 1500) return false;
        const e = await kv.get(key);
        return e?.operation === 'PUT' && e.revision > first.revision && e;
      },
      5000,
      'the entry rewritten and alive past its TTL',
    );
    expect(entry?.json()).toMatchObject({ mechanic_id: id, connections: 1 });
    expect(Date.now() - Date.parse(entry?.json<{ updated_at: string }>().updated_at ?? '')).toBeLessThan(1500);
    await client.close();
  });
});
