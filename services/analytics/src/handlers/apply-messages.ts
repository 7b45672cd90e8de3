import type { RequestEvent, SeenEvent } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { parseMessage } from '../domain/parse-event.js';
import type { FactsRepository } from '../repositories/facts.repository.js';

/** The part of a JetStream message the projection reads. */
export interface EventMessage {
  data: Uint8Array;
  subject: string;
  seq: number;
}

/** One message applied: a lifecycle event or a seen ack, with what the metrics label it by. */
export type Applied<M> = { msg: M } & (
  | { event: RequestEvent; seen?: never; kind: RequestEvent['kind']; occurredAt: string }
  | { seen: SeenEvent; event?: never; kind: 'seen'; occurredAt: string }
);

export interface AppliedBatch<M> {
  applied: Applied<M>[];
  rejected: { msg: M; reason: string }[];
}

/**
 * Parses a batch (a message on `seenSubject` is a seen ack, any other a lifecycle event) and
 * writes the readable ones in one statement; unreadable ones are returned as rejected (and
 * logged) without touching the database. Throws when the write fails, leaving the caller to hand
 * the batch back. Shared by the live consumer and the rebuild.
 */
export async function applyMessages<M extends EventMessage>(
  repo: FactsRepository,
  msgs: readonly M[],
  seenSubject: string,
  logger: Logger,
): Promise<AppliedBatch<M>> {
  const applied: Applied<M>[] = [];
  const rejected: AppliedBatch<M>['rejected'] = [];
  for (const msg of msgs) {
    const parsed = parseMessage(msg.subject, msg.data, seenSubject);
    if (!parsed.ok) {
      rejected.push({ msg, reason: parsed.reason });
      logger.warn({ subject: msg.subject, stream_seq: msg.seq, reason: parsed.reason }, 'event rejected');
    } else if (parsed.event) {
      applied.push({ msg, event: parsed.event, kind: parsed.event.kind, occurredAt: parsed.event.occurred_at });
    } else {
      applied.push({ msg, seen: parsed.seen, kind: 'seen', occurredAt: parsed.seen.seen_at });
    }
  }
  const events = applied.flatMap((a) => (a.event ? [{ event: a.event, seq: a.msg.seq }] : []));
  const seen = applied.flatMap((a) => (a.seen ? [a.seen] : []));
  await repo.apply(events, seen);
  return { applied, rejected };
}
