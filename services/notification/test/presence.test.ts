import { type PresenceEntry, presenceKeysOf } from '@dibs/contracts';
import { cleanupNats, createTestDatabase, eventually, type TestDatabase, testPrefix, tokenFor } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support/clients.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { seedMechanic } from './support/seed.js';

const TTL_MS = 1500;
let db: TestDatabase;
let prefix: string;
let gw: RunningGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  prefix = testPrefix('gwk');
  gw = await startGateway(db, prefix, { GATEWAY_PRESENCE_TTL_MS: String(TTL_MS) });
});
afterAll(async () => {
  await gw.close();
  await cleanupNats(prefix);
  await db.drop();
});

/** The presence entry under `key` once `ready` holds for it (a PUT), with its revision. */
function entryWhen(kv: KV, key: string, ready: (e: PresenceEntry) => boolean, what: string) {
  return eventually(
    async () => {
      const e = await kv.get(key);
      if (e?.operation !== 'PUT') return false;
      const value = e.json<PresenceEntry>();
      return ready(value) && { value, revision: e.revision };
    },
    5000,
    what,
  );
}

describe('presence with a short TTL', () => {
  it('expires entries by the bucket TTL, and keeps a connected mechanic present by refreshing it', async () => {
    const info = await (await jetstreamManager(gw.nc)).streams.info(`KV_${prefix}_presence`);
    expect(info.config.max_age).toBe(TTL_MS * 1_000_000);
    const kv = await new Kvm(jetstream(gw.nc)).open(`${prefix}_presence`);
    const id = await seedMechanic(db);
    const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
    const key = `${id}.${gw.gateway.instanceId}`;
    const first = await entryWhen(kv, key, () => true, 'the entry');
    const firstSeen = Date.now();
    // Still there more than a TTL after it was first written, rewritten meanwhile: without the
    // gateway's refresh the bucket would have dropped it by now.
    const entry = await entryWhen(
      kv,
      key,
      () => Date.now() - firstSeen > TTL_MS,
      'the entry rewritten and alive past its TTL',
    );
    expect(entry.revision).toBeGreaterThan(first.revision);
    expect(entry.value).toMatchObject({ mechanic_id: id, connections: 1 });
    expect(Date.now() - Date.parse(entry.value.updated_at)).toBeLessThan(TTL_MS);
    await client.close();
  });

  it('keeps a mechanic gone from this instance listed, as 0 connections at the close time, until the TTL drops it', async () => {
    const kv = await new Kvm(jetstream(gw.nc)).open(`${prefix}_presence`);
    const id = await seedMechanic(db);
    const client = await connect(gw.wsUrl, await tokenFor('mechanic', id));
    const key = `${id}.${gw.gateway.instanceId}`;
    await entryWhen(kv, key, (e) => e.connections === 1, 'the entry of the connected mechanic');
    const closing = Date.now();
    await client.close();
    const gone = await entryWhen(kv, key, (e) => e.connections === 0, 'the entry written as gone');
    const goneAt = Date.parse(gone.value.updated_at);
    expect(goneAt).toBeGreaterThanOrEqual(closing);
    expect(goneAt).toBeLessThanOrEqual(Date.now());
    // A reader still finds it where it looks for the mechanic: connected within the last TTL.
    const keys: string[] = [];
    for await (const k of await kv.keys(presenceKeysOf(id))) keys.push(k);
    expect(keys).toEqual([key]);
    // Never refreshed (the refresh rewrites each connected entry every second here), and dropped by
    // the bucket's max age a TTL after its write.
    const revisions = new Set<number>();
    await eventually(
      async () => {
        const e = await kv.get(key);
        if (e === null) return true;
        revisions.add(e.revision);
        return false;
      },
      5000,
      'the entry expired',
    );
    expect(Date.now() - goneAt).toBeGreaterThanOrEqual(TTL_MS - 50);
    expect([...revisions]).toEqual([gone.revision]);
  });

  it('writes the entries of its mechanics as gone when the instance shuts down', async () => {
    const other = await startGateway(db, prefix, { GATEWAY_PRESENCE_TTL_MS: String(TTL_MS) });
    const kv = await new Kvm(jetstream(gw.nc)).open(`${prefix}_presence`);
    const id = await seedMechanic(db);
    await connect(other.wsUrl, await tokenFor('mechanic', id));
    const key = `${id}.${other.gateway.instanceId}`;
    await entryWhen(kv, key, (e) => e.connections === 1, 'the entry of the connected mechanic');
    const closing = Date.now();
    await other.close();
    // Written before close() resolves, while the instance still had its NATS connection.
    const e = await kv.get(key);
    expect(e?.operation).toBe('PUT');
    expect(e?.json<PresenceEntry>()).toMatchObject({ mechanic_id: id, connections: 0 });
    expect(Date.parse(e?.json<PresenceEntry>().updated_at ?? '')).toBeGreaterThanOrEqual(closing);
  });
});
