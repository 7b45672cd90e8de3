import { natsNames } from '@dibs/contracts';
import { eventually } from '@dibs/testing';
import { type ClusterInfo, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomer,
  addMechanic,
  createRequest,
  createWorld,
  destroyWorld,
  ms,
  setFlag,
  startRouting,
  stopRouting,
  type World,
} from './support/fixture.js';
import { type NatsNode, type PrivateNatsCluster, startNatsCluster } from './support/nats-servers.js';
import { expectFiredOnce, openWindows, settledEvents, untilRequest } from './support/stored-events.js';

// Production runs NATS as a 3-node JetStream cluster with R3 streams. Here routing runs against a
// cluster of this file's own, and the node leading the EVENTS stream, then the node leading
// routing's `created` consumer, is killed with SIGKILL while priority windows are open.
//
// Windows end from PostgreSQL (routing's window sweeper), so their timing does not depend on
// JetStream; what the cluster must keep is every `created` event delivered to routing and acted on
// once, and every event routing publishes stored once across the change of leader (while there is
// no leader the outbox's fast path fails, the relay republishes with the same Nats-Msg-Id, and the
// new leader's duplicate window drops any repeat).

const MINUTE_MS = 100;
/** Window lengths in window minutes (2 s to 10 s): deadlines before, during and after the election (4-9 s). */
const WINDOWS = [20, 30, 45, 70, 100];
/**
 * How long after the new consumer leader's election (or its own booking, if later) a request may
 * wait for its priority offer: what a customer may wait when a NATS node dies. Routing's pull died
 * with the old leader; after two missed idle heartbeats (routing's 5 s pull expiry) nats.js asks
 * for the consumer's info, which goes unanswered (5 s timeout) if asked before the election, and
 * asks again after a jittered 2.5-7.5 s: at most 12.5 s, plus 1.5 s for a busy machine.
 */
const NEW_REQUEST_BOUND_MS = 14_000;

let cluster: PrivateNatsCluster;
let world: World;
let jsm: JetStreamManager;
let people: { customer: string; favorite: string };
let names: ReturnType<typeof natsNames>;

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  world = await createWorld('cluster', cluster.urls);
  names = natsNames(world.prefix);
  // Short timeouts: these calls poll while a leader is missing.
  jsm = await jetstreamManager(world.nc, { timeout: 1000 });
  people = { customer: await addCustomer(world.db), favorite: await addMechanic(world.db) };
  await setFlag(world.db, { is_enabled: true });
  // Routing provisions the stream (R3) and its consumer; each test then places the leaders before
  // it starts its own replica (moving the consumer's leader under a running routing would itself
  // be a change of leader).
  await stopRouting(world, await routingOn(cluster.urls));
});
afterEach(async () => {
  for (const routing of [...world.routings]) await stopRouting(world, routing);
  // A killed node comes back on its store and catches up before the next test kills another.
  for (const node of cluster.nodes.filter((n) => !n.running())) await node.start();
  await eventually(
    async () => allCurrent((await streamInfo()).cluster) && allCurrent((await consumerInfo()).cluster),
    30_000,
    'every node to be back and current',
  );
});
afterAll(async () => {
  try {
    if (world) await destroyWorld(world);
  } finally {
    await cluster?.destroy();
  }
});

function routingOn(servers: string[]) {
  return startRouting(world, { NATS_URL: servers, NATS_STREAM_REPLICAS: 3, PRIORITY_MINUTE_MS: MINUTE_MS });
}

const streamInfo = () => jsm.streams.info(names.streams.events);
const consumerInfo = () => jsm.consumers.info(names.streams.events, names.consumers.routingCreated);

/** A leader, and both other replicas present and caught up. */
function allCurrent(info: ClusterInfo | undefined): boolean {
  return !!info?.leader && info.replicas?.length === 2 && info.replicas.every((r) => r.current && !r.offline);
}

/** Steps the consumer's leader down until `wanted` holds (JetStream picks each new leader itself). */
async function moveConsumerLeader(wanted: (leader: string) => boolean): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const leader = (await consumerInfo()).cluster?.leader;
    if (leader && wanted(leader)) return leader;
    await world.nc
      .request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${names.streams.events}.${names.consumers.routingCreated}`, '', {
        timeout: 2000,
      })
      .catch(() => undefined);
    await eventually(async () => {
      const next = (await consumerInfo()).cluster?.leader;
      return next !== undefined && next !== leader;
    }, 15_000);
  }
  throw new Error('could not move the consumer leader where the test wants it');
}

/** SIGKILLs `node`; resolves with when, and when JetStream had elected another leader of `what`. */
async function killAndAwaitElection(node: NatsNode, what: () => Promise<{ cluster?: ClusterInfo }>) {
  const killedAt = Date.now();
  await node.kill();
  const electedAt = await eventually(
    async () => {
      const leader = (await what()).cluster?.leader;
      return leader !== undefined && leader !== node.name && Date.now();
    },
    30_000,
    `a new leader after ${node.name} was killed`,
  );
  return { killedAt, electedAt };
}

describe('routing on a 3-node JetStream cluster', () => {
  it('provisions the EVENTS stream and its created consumer on all three nodes', async () => {
    const stream = await streamInfo();
    expect(stream.config.num_replicas).toBe(3);
    expect(allCurrent(stream.cluster)).toBe(true);
    expect(allCurrent((await consumerInfo()).cluster)).toBe(true);
  });

  it('fires every open window once, on time, when the node leading the EVENTS stream is killed', async () => {
    const streamLeader = (await streamInfo()).cluster!.leader!;
    // Only the stream loses its leader: routing's consumer is led elsewhere.
    await moveConsumerLeader((leader) => leader !== streamLeader);
    // Routing is connected to the node that dies: it reconnects to another (learned from the
    // cluster), and what it publishes meanwhile waits for the new leader.
    const doomed = cluster.node(streamLeader);
    const routing = await routingOn([doomed.url]);
    expect(routing.nc.info?.server_name).toBe(doomed.name);
    const windows = await openWindows(world, people, WINDOWS);
    expect(Date.now()).toBeLessThan(Math.min(...windows.map((w) => ms(w.priority_expires_at))));

    const { killedAt, electedAt } = await killAndAwaitElection(doomed, streamInfo);
    for (const w of windows) await untilRequest(world, w.id, 'broadcast');
    const events = await settledEvents(
      world,
      windows.map((w) => w.id),
    );
    const lateness = await expectFiredOnce(world, windows, events, electedAt);
    console.info(
      `[EVENTS stream leader killed] new leader after ${electedAt - killedAt} ms; lateness in PostgreSQL ` +
        `${lateness.db.join('/')} ms, in the stream ${lateness.stream.join('/')} ms`,
    );
  });

  it('fires every open window once and routes new requests once when the node leading its created consumer is killed', async () => {
    const streamLeader = (await streamInfo()).cluster!.leader!;
    const consumerLeader = await moveConsumerLeader((leader) => leader !== streamLeader);
    // The likelier case in production: routing is connected to neither leader, so it sees no
    // disconnect, and its pull request dies with the consumer's leader.
    const third = cluster.nodes.find((n) => n.name !== streamLeader && n.name !== consumerLeader)!;
    const routing = await routingOn([third.url]);
    expect(routing.nc.info?.server_name).toBe(third.name);
    const windows = await openWindows(world, people, WINDOWS);
    expect(Date.now()).toBeLessThan(Math.min(...windows.map((w) => ms(w.priority_expires_at))));

    const killing = killAndAwaitElection(cluster.node(consumerLeader), consumerInfo);
    // Booked while the consumer has no leader, and right after it has one again.
    const book = () =>
      createRequest(world.db, { customerId: people.customer, preferredMechanicId: people.favorite, windowMinutes: 20 });
    const during = await Promise.all([book(), book(), book()]);
    const { killedAt, electedAt } = await killing;
    const fresh = [...during, await book()];

    const offers = await Promise.all(fresh.map((r) => untilRequest(world, r.id, 'offered')));
    const waits = offers.map((o) => ms(o.priority_notified_at) - Math.max(ms(o.created_at), electedAt));
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(NEW_REQUEST_BOUND_MS);
    for (const w of [...windows, ...fresh]) await untilRequest(world, w.id, 'broadcast');

    const events = await settledEvents(
      world,
      [...windows, ...fresh].map((r) => r.id),
    );
    // The new requests too: each routed once (one offer), then broadcast once when its window ended.
    // The stream kept its leader throughout, so no election bounds when a broadcast is stored.
    const lateness = await expectFiredOnce(world, [...windows, ...fresh], events, 0);
    console.info(
      `[created consumer leader killed] new leader after ${electedAt - killedAt} ms; lateness in PostgreSQL ` +
        `${lateness.db.join('/')} ms, in the stream ${lateness.stream.join('/')} ms; new requests offered ` +
        `${waits.join('/')} ms after the election (or their creation)`,
    );
  });
});
