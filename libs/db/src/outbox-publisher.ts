import type { Logger } from '@dibs/logger';
import type { JetStreamClient } from '@nats-io/jetstream';
import pg from 'pg';
import { OUTBOX_TABLES, type OutboxEntry, type OutboxOwner, payloadJson } from './outbox.js';
import { OUTBOX_DELETE_SESSION } from './outbox-relay.js';

export interface OutboxPublisherOptions {
  databaseUrl: string;
  /** Whose outbox the published rows are deleted from: the service that wrote them. */
  owner: OutboxOwner;
  js: JetStreamClient;
  prefix: string;
  logger: Logger;
  /**
   * How often the rows published since the last time are deleted, in one statement. Well under
   * the relay's grace time, so the relay never finds a row this path has already published.
   */
  deleteEveryMs?: number;
}

export interface OutboxPublisher {
  /**
   * Publishes rows that were just committed, right away, with `Nats-Msg-Id` = row id. Never
   * throws: a row it cannot publish stays in the outbox and the relay takes it after its grace time.
   */
  publish(entries: OutboxEntry[]): Promise<void>;
  /** Deletes what it published since the last time and frees the connection. */
  stop(): Promise<void>;
}

/** How long the relay leaves fresh rows to the publisher before taking them itself. */
export const PUBLISHER_GRACE_MS = 2000;

/**
 * The outbox's fast path: a service publishes the rows its transaction committed as soon as it
 * commits, instead of waiting for the relay's poll → claim → publish → delete round trip. The
 * relay (started with `graceMs: PUBLISHER_GRACE_MS`) remains the guarantee: whatever this path
 * fails to publish, or publishes without deleting before a crash, the relay publishes later, and
 * the stream's duplicate window drops any repeat.
 */
export function createOutboxPublisher(opts: OutboxPublisherOptions): OutboxPublisher {
  const { js, prefix, logger } = opts;
  const table = OUTBOX_TABLES[opts.owner];
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1, options: OUTBOX_DELETE_SESSION });
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'outbox publisher connection lost'));
  let published: string[] = [];
  let deleting: Promise<void> = Promise.resolve();

  async function deletePublished(): Promise<void> {
    if (published.length === 0) return;
    const ids = published;
    published = [];
    try {
      await pool.query({
        name: `${table}-delete-published`,
        text: `delete from ${table} where id = any($1)`,
        values: [ids],
      });
    } catch (err) {
      // Rows left behind are republished by the relay and dropped as duplicates by the stream.
      logger.debug(
        { err: { message: (err as Error).message }, count: ids.length },
        'outbox publisher could not delete published rows',
      );
    }
  }

  const timer = setInterval(() => {
    deleting = deleting.then(deletePublished);
  }, opts.deleteEveryMs ?? 100);
  timer.unref();

  return {
    async publish(entries) {
      await Promise.all(
        entries.map(async (e) => {
          try {
            await js.publish(`${prefix}.${e.subject}`, payloadJson(e), { msgID: e.id, timeout: 2000 });
            published.push(e.id);
          } catch (err) {
            logger.debug(
              { err: { message: (err as Error).message }, outbox_id: e.id },
              'fast publish failed; the relay will retry',
            );
          }
        }),
      );
    },
    async stop() {
      clearInterval(timer);
      await deleting;
      await deletePublished();
      await pool.end();
    },
  };
}
