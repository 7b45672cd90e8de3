import { randomUUID } from 'node:crypto';
import {
  contracts,
  type Delivery,
  EVENT_VERSION,
  type EventKind,
  type MessageContract,
  type PayloadIn,
  type RequestEventOf,
  type SessionRequest,
} from '@dibs/contracts';
import type { Sql } from './sql.js';

/**
 * One message waiting in the outbox: a subject relative to NATS_PREFIX and its JSON payload.
 * Built by `outboxMessage` (or `requestEvent`), so its subject and payload agree.
 */
export interface OutboxEntry {
  id: string;
  subject: string;
  payload: unknown;
}

/** An outbox entry for `contract` (a registry entry of `@dibs/contracts`); `id` becomes the JetStream `Nats-Msg-Id`. */
export function outboxMessage<C extends MessageContract>(
  contract: C,
  payload: PayloadIn<C>,
  id: string = randomUUID(),
): OutboxEntry {
  return { id, subject: contract.subject, payload };
}

const serialized = new WeakMap<OutboxEntry, string>();

/** The JSON text of an entry's payload, serialized once however often it is stored and published. */
export function payloadJson(entry: OutboxEntry): string {
  let json = serialized.get(entry);
  if (json === undefined) {
    json = JSON.stringify(entry.payload);
    serialized.set(entry, json);
  }
  return json;
}

/**
 * Each writing service's own outbox table (docs/decisions/013-table-ownership.md): a service
 * writes its messages there and its relay polls that table alone, so no relay ever publishes
 * another service's rows. Routing's keeps the table's original name.
 */
export const OUTBOX_TABLES = { intake: 'intake_outbox', routing: 'outbox' } as const;

/** A service that writes messages through an outbox of its own. */
export type OutboxOwner = keyof typeof OUTBOX_TABLES;

/** A transaction that can write into an outbox: a `UnitOfWork` of `unitOfWork(orm, { outbox })`. */
export interface OutboxWriter extends Sql {
  /** The service whose transaction this is: its outbox receives the entries. */
  outbox: OutboxOwner;
  /** Told what was enqueued, so the caller can publish it right after the commit (fast path). */
  queued?(entries: OutboxEntry[]): void;
}

/**
 * Writes entries into the outbox of the service that owns `tx`. Call it inside the transaction
 * that made the change, so the change and its messages commit (or vanish) together.
 */
export async function enqueue(tx: OutboxWriter, entries: OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3}::jsonb)`).join(', ');
  const params = entries.flatMap((e) => [e.id, e.subject, payloadJson(e)]);
  await tx.query(`insert into ${OUTBOX_TABLES[tx.outbox]} (id, subject, payload) values ${values}`, params);
  tx.queued?.(entries);
}

/**
 * A lifecycle event of `request`, with what it tells whom (`notify`); its id is the outbox id
 * and so the JetStream message id, and the id of every frame rendered from it.
 */
export function requestEvent<K extends EventKind>(
  kind: K,
  request: SessionRequest,
  opts: {
    actorMechanicId?: string | null;
    at?: Date;
    notify?: Delivery[];
    /** An `accepted` event's price (CONTRACT §7). */
    price?: { cents: number; currency: string } | null;
  } = {},
): OutboxEntry {
  const id = randomUUID();
  const payload: RequestEventOf<K> = {
    v: EVENT_VERSION,
    id,
    kind,
    occurred_at: (opts.at ?? new Date()).toISOString(),
    request,
    actor_mechanic_id: opts.actorMechanicId ?? null,
    notify: opts.notify ?? [],
    price: opts.price ?? null,
  };
  // `payload` is typed above; TypeScript cannot follow the generic `kind` into the registry's entry.
  return outboxMessage<MessageContract>(contracts.events[kind], payload, id);
}
