import type { NatsNames } from '@dibs/contracts';
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export interface StreamOptions {
  /**
   * JetStream replicas per stream: 1 on a single server, 3 on a production cluster. When not
   * given, a new stream gets 1 and an existing stream keeps what it has, so a service that was
   * not told never scales a stream down.
   */
  replicas?: number | undefined;
}

/** The duplicate window: a relay that crashed between publish and delete republishes within it. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** Desired configuration of dibs' streams for one prefix. */
type NamedStreamConfig = Partial<StreamConfig> & { name: string };

export function streamConfigs(names: NatsNames, { replicas }: StreamOptions = {}): NamedStreamConfig[] {
  const replicated = replicas === undefined ? {} : { num_replicas: replicas };
  return [
    {
      name: names.streams.events,
      subjects: [names.subjects.eventsAll],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      ...replicated,
    },
  ];
}

/** Creates dibs' streams, or updates them to the desired config; safe to run from every replica. */
export async function provisionStreams(
  jsm: JetStreamManager,
  names: NatsNames,
  opts: StreamOptions = {},
): Promise<void> {
  for (const cfg of streamConfigs(names, opts)) {
    await ensureStream(jsm, cfg);
  }
}

/** Adds a stream or updates it in place; concurrent callers converge on the same config. */
export async function ensureStream(jsm: JetStreamManager, cfg: NamedStreamConfig): Promise<void> {
  const name = cfg.name;
  try {
    const current = await jsm.streams.info(name);
    await jsm.streams.update(name, { num_replicas: current.config.num_replicas, ...cfg });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add(cfg);
    } catch (addErr) {
      // Another replica won the race to create it: fall back to an update.
      if (!isAlreadyInUse(addErr)) throw addErr;
      await jsm.streams.update(name, cfg);
    }
  }
}

/** Adds a durable consumer or updates its mutable settings; concurrent callers converge. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  cfg: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  const full: Partial<ConsumerConfig> = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...cfg };
  try {
    await jsm.consumers.info(stream, cfg.durable_name);
    await jsm.consumers.update(stream, cfg.durable_name, updatable(full));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.consumers.add(stream, full);
    } catch (addErr) {
      if (!isAlreadyInUse(addErr)) throw addErr;
    }
  }
}

// Only these settings may change on an existing consumer; the rest are fixed at creation.
function updatable(cfg: Partial<ConsumerConfig>): Partial<ConsumerConfig> {
  const {
    ack_wait,
    max_ack_pending,
    max_deliver,
    description,
    max_waiting,
    max_batch,
    max_expires,
    inactive_threshold,
  } = cfg;
  return Object.fromEntries(
    Object.entries({
      ack_wait,
      max_ack_pending,
      max_deliver,
      description,
      max_waiting,
      max_batch,
      max_expires,
      inactive_threshold,
    }).filter(([, v]) => v !== undefined),
  );
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 404 || /not found/i.test(err.message));
}

function isAlreadyInUse(err: unknown): boolean {
  return err instanceof JetStreamApiError && /already in use|exists/i.test(err.message);
}
