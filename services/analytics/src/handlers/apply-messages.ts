import type { RequestEvent } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { parseEvent } from '../domain/parse-event.js';
import type { FactsRepository } from '../repositories/facts.repository.js';

/** The part of a JetStream message the projection reads. */
export interface EventMessage {
  data: Uint8Array;
  subject: string;
  seq: number;
}

export interface AppliedBatch<M> {
  applied: { msg: M; event: RequestEvent }[];
  rejected: { msg: M; reason: string }[];
}

/**
 * Parses a batch and writes the readable events in one statement; unreadable ones are returned
 * as rejected (and logged) without touching the database. Throws when the write fails, leaving
 * the caller to hand the batch back. Shared by the live consumer and the rebuild.
 */
export async function applyMessages<M extends EventMessage>(
  repo: FactsRepository,
  msgs: readonly M[],
  logger: Logger,
): Promise<AppliedBatch<M>> {
  const applied: AppliedBatch<M>['applied'] = [];
  const rejected: AppliedBatch<M>['rejected'] = [];
  for (const msg of msgs) {
    const parsed = parseEvent(msg.data);
    if (parsed.ok) applied.push({ msg, event: parsed.event });
    else {
      rejected.push({ msg, reason: parsed.reason });
      logger.warn({ subject: msg.subject, stream_seq: msg.seq, reason: parsed.reason }, 'event rejected');
    }
  }
  await repo.apply(applied.map((a) => ({ event: a.event, seq: a.msg.seq })));
  return { applied, rejected };
}
