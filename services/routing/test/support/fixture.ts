import { randomUUID } from 'node:crypto';
import {
  type CommandReply,
  type Delivery,
  type EventKind,
  natsNames,
  type PayloadIn,
  type RequestEvent,
  type RoutingCommand,
  type RoutingContracts,
  renderFrame,
  routingContract,
  type SessionRequest,
} from '@dibs/contracts';
import {
  createOrm,
  createOutboxRelay,
  enqueue,
  type OutboxRelay,
  type OutboxWriter,
  PUBLISHER_GRACE_MS,
  requestEvent,
  SESSION_REQUEST_COLUMNS,
  type SessionRequestRecord,
  type Statement,
  toSessionRequest,
} from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { openNats, request } from '@dibs/nats';
import {
  cleanupNats,
  connectTestNats,
  createTestDatabase,
  eventually,
  natsServers,
  type TestDatabase,
  testPrefix,
} from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { buildRouting, type Routing, type RoutingDeps } from '../../src/app.js';
import { type RoutingConfig, routingOrmOptions } from '../../src/config.js';

/** What one test file shares: its own database, NATS prefix and a connection to observe with. */
export interface World {
  db: TestDatabase;
  prefix: string;
  nc: NatsConnection;
  /** The NATS servers `nc` and every routing started in this world connect to. */
  servers: string[];
  routings: Routing[];
}

// The world of each test database, so createRequest can publish as intake does.
const worlds = new WeakMap<TestDatabase, World>();

// Intake's relay beside each routing replica (see startRouting), stopped with it.
const intakeRelays = new WeakMap<Routing, OutboxRelay>();

/**
 * A world on the shared test NATS, or on `servers` (a private server or cluster of the test's own;
 * the world's connection then follows a failover to any of them, as a service's would).
 */
export async function createWorld(label = 'rt', servers?: string[]): Promise<World> {
  const [db, nc] = await Promise.all([
    createTestDatabase(),
    servers ? connect({ servers, timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 100 }) : connectTestNats(),
  ]);
  const world = { db, prefix: testPrefix(label), nc, servers: servers ?? natsServers(), routings: [] };
  worlds.set(db, world);
  return world;
}

export async function destroyWorld(world: World): Promise<void> {
  for (const r of world.routings.splice(0)) {
    await intakeRelays.get(r)?.stop();
    await r.close().catch(() => undefined);
  }
  await world.nc.close();
  await cleanupNats(world.prefix);
  await world.db.drop();
}

export type RoutingOverrides = Partial<
  RoutingDeps['config'] & Pick<RoutingConfig, 'NATS_URL' | 'NATS_STREAM_REPLICAS'>
> &
  Pick<RoutingDeps, 'hooks' | 'clock' | 'flagRefreshMs'>;

/**
 * An in-process routing replica on the world's database and prefix, connected as main.ts connects
 * it (its own NATS connection and ORM, handed over); closing it frees those too.
 */
export async function startRouting(world: World, overrides: RoutingOverrides = {}): Promise<Routing> {
  const { hooks, clock, flagRefreshMs, NATS_URL, NATS_STREAM_REPLICAS, ...config } = overrides;
  const full: RoutingDeps['config'] = {
    DATABASE_URL: world.db.url,
    NATS_PREFIX: world.prefix,
    PRIORITY_MINUTE_MS: 100,
    ROUTING_ACK_WAIT_MS: 30_000,
    ROUTING_SWEEP_MS: 250,
    ROUTING_CONCURRENCY: 16,
    ROUTING_DB_POOL: 6,
    ...config,
  };
  const logger = createLogger({
    service: 'routing-test',
    level: process.env.TEST_LOG_LEVEL ?? 'silent',
    pretty: false,
  });
  const nc = await openNats(
    { NATS_URL: NATS_URL ?? world.servers, NATS_PREFIX: world.prefix, NATS_STREAM_REPLICAS: NATS_STREAM_REPLICAS ?? 1 },
    { name: 'routing', logger },
  );
  const orm = await createOrm(routingOrmOptions(full, logger));
  const routing = await buildRouting({
    config: full,
    logger,
    nc,
    orm,
    ownsConnections: true,
    ...(hooks ? { hooks } : {}),
    ...(clock ? { clock } : {}),
    ...(flagRefreshMs ? { flagRefreshMs } : {}),
  }).catch(async (err: unknown) => {
    await nc.close();
    await orm.close();
    throw err;
  });
  world.routings.push(routing);
  // Intake is not running, so its relay runs beside each replica on the replica's NATS, as
  // routing's relay did when the outbox was shared: it publishes the `created` rows stored in
  // intake's outbox whose own publish failed or went to another server. Routing's relay
  // publishes routing's outbox only.
  const intakeRelay = createOutboxRelay({
    databaseUrl: world.db.url,
    owner: 'intake',
    js: jetstream(routing.nc),
    prefix: world.prefix,
    logger: createLogger({ service: 'intake-relay-test', level: 'silent', pretty: false }),
    graceMs: PUBLISHER_GRACE_MS,
  });
  await intakeRelay.start();
  intakeRelays.set(routing, intakeRelay);
  return routing;
}

export async function stopRouting(world: World, routing: Routing): Promise<void> {
  world.routings.splice(world.routings.indexOf(routing), 1);
  await intakeRelays.get(routing)?.stop();
  await routing.close();
}

export async function addCustomer(db: TestDatabase, name = 'Dana Customer'): Promise<string> {
  const { rows } = await db.query(`insert into customers (name, email) values ($1, $2) returning id`, [
    name,
    `${randomUUID()}@customers.test`,
  ]);
  return rows[0].id;
}

export async function addMechanic(
  db: TestDatabase,
  status: 'approved' | 'pending' | 'suspended' = 'approved',
): Promise<string> {
  const { rows } = await db.query(
    `insert into mechanics (first_name, last_name, email, status) values ('Mia', $1, $2, $3) returning id`,
    [`M${Math.floor(Math.random() * 1e6)}`, `${randomUUID()}@mechanics.test`, status],
  );
  return rows[0].id;
}

/** What a mechanic says through `PUT /v1/mechanics/me/availability`, written as intake writes it. */
export async function setAvailability(
  db: TestDatabase,
  mechanicId: string,
  a: { available?: boolean; schedule?: { day: number; from: string; to: string }[] | null; timezone?: string },
): Promise<void> {
  await db.query(
    `insert into mechanic_availability (mechanic_id, available, schedule, timezone) values ($1, $2, $3, $4)
     on conflict (mechanic_id) do update set available = excluded.available, schedule = excluded.schedule,
       timezone = excluded.timezone, updated_at = now()`,
    [mechanicId, a.available ?? true, a.schedule ? JSON.stringify(a.schedule) : null, a.timezone ?? 'UTC'],
  );
}

export interface FlagSettings {
  is_enabled: boolean;
  enabled_for_roles?: string[];
  rollout_percentage?: number;
}

/** Changes ENABLE_FAVORITES_PRIORITY with plain SQL, as an operator would. */
export async function setFlag(db: TestDatabase, flag: FlagSettings): Promise<void> {
  await db.query(
    `update feature_flags set is_enabled = $1, enabled_for_roles = $2, rollout_percentage = $3
     where flag_key = 'ENABLE_FAVORITES_PRIORITY'`,
    [flag.is_enabled, flag.enabled_for_roles ?? ['admin', 'customer'], flag.rollout_percentage ?? 100],
  );
}

export interface NewRequest {
  customerId: string;
  preferredMechanicId?: string | null;
  routingType?: 'broadcast' | 'priority_broadcast' | 'priority_sequence';
  preferredWorkshopId?: string | null;
  windowMinutes?: number;
  /** A sequence's plan, as intake fixes it at booking (rank order); the first is the preferred mechanic. */
  tiers?: { mechanicId: string; windowMinutes: number }[];
}

/**
 * Stores a request and its `request.created` event in one transaction, then publishes the event
 * at once, as intake does (its outbox fast path); if that publish fails, a relay publishes it later.
 */
export async function createRequest(db: TestDatabase, req: NewRequest): Promise<SessionRequest> {
  const { request, publish } = await storeRequest(db, req);
  await publish();
  return request;
}

/**
 * Stores a request and its `request.created` event (outbox) without publishing it yet: a test can
 * change the world first, so that the event routing receives no longer tells the truth.
 */
export async function storeRequest(
  db: TestDatabase,
  req: NewRequest,
): Promise<{ request: SessionRequest; publish(): Promise<void> }> {
  const tiers = req.tiers?.map((t) => ({ mechanic_id: t.mechanicId, window_minutes: t.windowMinutes })) ?? null;
  const preferred = req.preferredMechanicId ?? tiers?.[0]?.mechanic_id ?? null;
  const routingType = req.routingType ?? (tiers ? 'priority_sequence' : preferred ? 'priority_broadcast' : 'broadcast');
  const { rows } = await db.query<SessionRequestRecord>(
    `with c as (select name, email from customers where id = $1)
     insert into session_requests (customer_id, customer_name, customer_email, session_type, plan_code, routing_type,
       preferred_mechanic_id, preferred_workshop_id, priority_window_minutes, priority_tiers, created_at, updated_at)
     select $1, c.name, c.email, 'video', 'basic', $2, $3, $4, $5, $6, clock_timestamp(), clock_timestamp() from c
     returning ${SESSION_REQUEST_COLUMNS}`,
    [
      req.customerId,
      routingType,
      preferred,
      req.preferredWorkshopId ?? null,
      req.windowMinutes ?? tiers?.[0]?.window_minutes ?? 10,
      tiers ? JSON.stringify(tiers) : null,
    ],
  );
  const request = toSessionRequest(rows[0] as SessionRequestRecord);
  const event = requestEvent('created', request);
  await enqueue(intakeOutbox(db), [event]);
  const world = worlds.get(db);
  return {
    request,
    async publish() {
      if (!world) return;
      await jetstream(world.nc)
        .publish(`${world.prefix}.${event.subject}`, JSON.stringify(event.payload), { msgID: event.id })
        .catch(() => undefined);
    },
  };
}

/** The test database as an outbox writer, writing into intake's outbox as intake does. */
function intakeOutbox(db: TestDatabase): OutboxWriter {
  return {
    outbox: 'intake',
    async query<R>(text: Statement | string, values: readonly unknown[] = []) {
      const { rows, rowCount } = await db.query(typeof text === 'string' ? text : text.text, [...values]);
      return { rows: rows as R[], rowCount: rowCount ?? 0 };
    },
  };
}

export async function getRequest(db: TestDatabase, id: string): Promise<SessionRequest> {
  const { rows } = await db.query<SessionRequestRecord>(
    `select ${SESSION_REQUEST_COLUMNS} from session_requests where id = $1`,
    [id],
  );
  return toSessionRequest(rows[0] as SessionRequestRecord);
}

/** Sends a routing command exactly as intake's HTTP routes do. */
export function command<C extends RoutingCommand>(
  world: World,
  cmd: C,
  payload: PayloadIn<RoutingContracts[C]>,
): Promise<CommandReply> {
  return request(world.nc, natsNames(world.prefix), routingContract(cmd), payload, 10_000);
}

export interface StoredMessage {
  subject: string;
  data: Record<string, unknown>;
}

/** Every message stored in `stream` on `subject` (wildcards allowed), oldest first. */
export async function readStream(nc: NatsConnection, stream: string, subject: string): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
  const out: StoredMessage[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ subject: m.subject, data: m.json() });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/** Lifecycle events of one request, of one kind (or all kinds). */
export async function eventsOf(world: World, requestId: string, kind: EventKind | '*' = '*'): Promise<RequestEvent[]> {
  const names = natsNames(world.prefix);
  const subject = kind === '*' ? `${world.prefix}.events.request.*` : names.subjects.event(kind);
  const all = await readStream(world.nc, names.streams.events, subject);
  return all.map((m) => m.data as unknown as RequestEvent).filter((e) => e.request.id === requestId);
}

/** Where a delivery goes, written as the audience it addresses: `notify.mechanic.<id>`, `notify.mechanics`, `notify.customer.<id>`. */
function audienceOf(event: RequestEvent, d: Delivery): string {
  switch (d.type) {
    case 'priority_session_request':
      return `notify.mechanic.${d.mechanic_id}`;
    case 'new_request':
      return 'notify.mechanics';
    case 'offer_expired':
      return `notify.mechanic.${d.mechanic_id}`;
    case 'request_taken':
    case 'request_cancelled':
      return d.mechanic_id === null ? 'notify.mechanics' : `notify.mechanic.${d.mechanic_id}`;
    case 'request_update':
      return `notify.customer.${event.request.customer_id}`;
  }
}

/**
 * The frames one request's lifecycle events send to `audience` (`notify.mechanic.<id>`,
 * `notify.mechanics`, `notify.customer.<id>`, or `notify.>` for all), rendered as the gateway
 * renders them; `data` is the frame, and `exclude` whom a broadcast leaves out.
 */
export async function notificationsOf(
  world: World,
  requestId: string,
  audience = 'notify.>',
): Promise<(StoredMessage & { exclude?: string[] })[]> {
  const out: (StoredMessage & { exclude?: string[] })[] = [];
  for (const event of await eventsOf(world, requestId)) {
    for (const d of event.notify) {
      const to = audienceOf(event, d);
      if (audience !== 'notify.>' && audience !== to) continue;
      out.push({
        subject: to,
        data: renderFrame(event, d) as unknown as Record<string, unknown>,
        ...(d.type === 'new_request' ? { exclude: d.exclude_mechanic_ids } : {}),
      });
    }
  }
  return out;
}

/** Resolves once routing has acknowledged every `created` message it was given (none pending, none in hand). */
export async function createdSettled(world: World, timeoutMs = 10_000): Promise<void> {
  const names = natsNames(world.prefix);
  const jsm = await jetstreamManager(world.nc);
  await eventually(
    async () => {
      const info = await jsm.consumers.info(names.streams.events, names.consumers.routingCreated);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    timeoutMs,
    'routing to acknowledge every created message',
  );
}

/** The kinds of a request's lifecycle events, in order. */
export async function eventKinds(world: World, requestId: string): Promise<string[]> {
  return (await eventsOf(world, requestId)).map((e) => e.kind);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const ms = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));
