import { natsNames } from '@dibs/contracts';
import { cleanupNats, connectTestNats, testPrefix } from '@dibs/testing';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUPLICATE_WINDOW_MS, ensureConsumer, provisionStreams } from '../src/index.js';

let nc: NatsConnection;
const prefix = testPrefix('prov');
const names = natsNames(prefix);
beforeAll(async () => {
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
  await cleanupNats(prefix);
});

describe('provisioning', () => {
  it('creates the streams under the prefix, and concurrent replicas converge on one config', async () => {
    const jsm = await jetstreamManager(nc);
    await Promise.all(Array.from({ length: 5 }, () => provisionStreams(jsm, names)));
    const events = await jsm.streams.info(names.streams.events);
    expect(events.config.subjects).toEqual([`${prefix}.events.>`]);
    expect(events.config.duplicate_window).toBe(DUPLICATE_WINDOW_MS * 1_000_000);
    expect(events.config.num_replicas).toBe(1);
    // One stream: notifications travel inside lifecycle events.
    const streams: string[] = [];
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${prefix}_`)) streams.push(s.config.name);
    expect(streams).toEqual([names.streams.events]);
    await provisionStreams(jsm, names);
    expect((await jsm.streams.info(names.streams.events)).config).toEqual(events.config);
  });

  it('creates a durable consumer once and updates its mutable settings', async () => {
    const jsm = await jetstreamManager(nc);
    await provisionStreams(jsm, names);
    const durable = `${prefix}_test_consumer`;
    const cfg = { durable_name: durable, filter_subject: names.subjects.event('created'), max_ack_pending: 500 };
    await Promise.all([ensureConsumer(jsm, names.streams.events, cfg), ensureConsumer(jsm, names.streams.events, cfg)]);
    await ensureConsumer(jsm, names.streams.events, { ...cfg, max_ack_pending: 900 });
    const info = await jsm.consumers.info(names.streams.events, durable);
    expect(info.config).toMatchObject({
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 900,
      filter_subject: `${prefix}.events.request.created`,
    });
  });
});
