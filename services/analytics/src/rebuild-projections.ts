import type { NatsNames } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { applyMessages } from './handlers/apply-messages.js';
import type { FactsRepository } from './repositories/facts.repository.js';

export interface RebuildResult {
  /** Stream sequence the replay stopped at (the last one when it began). */
  lastSeq: number;
  applied: number;
  rejected: number;
}

/**
 * Empties the read model and replays the EVENTS stream from its first message up to the last
 * one present when the rebuild began, through the same projection as the live consumer.
 * Safe while analytics runs: the projection is a merge, so live writes during the replay only
 * add facts the replay would add anyway; reports read in the meantime are partial.
 */
export async function rebuildProjections(opts: {
  js: JetStreamClient;
  names: NatsNames;
  repo: FactsRepository;
  logger: Logger;
  batchSize?: number;
}): Promise<RebuildResult> {
  const { js, names, repo, logger } = opts;
  const batchSize = opts.batchSize ?? 1000;
  const jsm = await js.jetstreamManager();
  // Truncate first, then read where the stream ends: an event the live consumer wrote just
  // before the truncate is then at or below lastSeq, so the replay puts it back.
  await repo.truncate();
  const { state } = await jsm.streams.info(names.streams.events);
  const lastSeq = state.last_seq;
  const result: RebuildResult = { lastSeq, applied: 0, rejected: 0 };
  if (state.messages === 0) return result;

  // An ordered consumer: ephemeral, flow-controlled, recreated by the client on any gap. No
  // filter: the stream holds only `events.>` (and NATS 2.9 has no filter_subjects).
  const consumer = await js.consumers.get(names.streams.events, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: batchSize });
  let batch: JsMsg[] = [];
  const flush = async () => {
    const { applied, rejected } = await applyMessages(repo, batch, names.subjects.seen, logger);
    result.applied += applied.length;
    result.rejected += rejected.length;
    batch = [];
  };
  try {
    for await (const msg of messages) {
      batch.push(msg);
      // Nothing pending before lastSeq means its tail was deleted meanwhile: done as well.
      const done = msg.seq >= lastSeq || msg.info.pending === 0;
      if (done || batch.length >= batchSize) await flush();
      if (done) break;
    }
  } finally {
    await messages.close();
  }
  logger.info(result, 'analytics read model rebuilt');
  return result;
}
