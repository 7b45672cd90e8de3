import type { Logger } from '@dibs/logger';
import type { JetStreamClient } from '@nats-io/jetstream';
import pg from 'pg';
import { OUTBOX_TABLES, type OutboxOwner } from './outbox.js';

export interface OutboxRelayOptions {
  databaseUrl: string;
  /** Whose outbox this relay publishes: the service it runs in. It never reads another's table. */
  owner: OutboxOwner;
  js: JetStreamClient;
  /** NATS_PREFIX; stored subjects are relative to it. */
  prefix: string;
  logger: Logger;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /**
   * How often the relay looks for rows still unpublished. Nothing wakes it from the database (no
   * NOTIFY: see docs/decisions/002-transactional-outbox.md), so this bounds how long a row the
   * fast path missed waits beyond `graceMs`. A look that finds nothing is one indexed query.
   */
  pollMs?: number;
  /**
   * Rows younger than this are left to the service's fast path (`createOutboxPublisher`); the
   * relay takes them only if they are still unpublished after it. 0 when there is no fast path.
   */
  graceMs?: number;
  /**
   * Fault-injection seam for tests: called at each step of a batch (rows claimed, published to
   * NATS, deleted in the still-open transaction) so a test can kill the process right there.
   */
  onStep?: (step: RelayStep, ids: string[]) => Promise<void> | void;
}

export interface OutboxRelay {
  /** Starts the relay loop. */
  start(): Promise<void>;
  /** Stops claiming new rows, finishes the batch in flight and frees the connections. */
  stop(): Promise<void>;
  /** Looks for rows now instead of at the next poll (a writer in this process without a fast path). */
  wake(): void;
  /** Rows not yet published (for /metrics). */
  backlog(): Promise<number>;
  /** Publishes everything pending now, ignoring the grace time; resolves when the outbox is empty. */
  flush(): Promise<void>;
}

export type RelayStep = 'claimed' | 'published' | 'deleted';

interface Row {
  id: string;
  subject: string;
  /** The payload's JSON text, published as it is. */
  payload: string;
}

/**
 * A row leaves the outbox once published. A delete whose commit a PostgreSQL crash loses only
 * brings the row back to be published again, and the stream's duplicate window drops the
 * repeat, so these commits need not wait for the WAL flush (`synchronous_commit = off`); the
 * writes that matter, the row and the change it belongs to, commit in the writer's transaction.
 */
export const OUTBOX_DELETE_SESSION = '-c synchronous_commit=off';

/** Unpublished rows old enough for the relay. `published_at` is only set by releases before rows were deleted. */
const DUE = `published_at is null and created_at <= clock_timestamp() - make_interval(secs => $1)`;

/**
 * The outbox relay of one service: publishes committed rows of its outbox to JetStream with `Nats-Msg-Id` = row id and
 * deletes them. Rows are claimed `FOR UPDATE SKIP LOCKED` inside a transaction that stays open
 * until they are deleted, so replicas never publish the same row concurrently and a crash between
 * publish and delete only causes a republish that the stream's duplicate window drops.
 */
export function createOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { databaseUrl, js, prefix, logger } = opts;
  const table = OUTBOX_TABLES[opts.owner];
  const batchSize = opts.batchSize ?? 200;
  const pollMs = opts.pollMs ?? 500;
  const graceMs = opts.graceMs ?? 0;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: OUTBOX_DELETE_SESSION });
  pool.on('error', (err) => logger.warn({ err }, 'outbox pool connection error'));

  let running = false;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  let loop: Promise<void> | undefined;

  function wake(): void {
    pendingWake = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (pendingWake) {
      pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        pendingWake = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  /** One round trip, no transaction: whether any row is due (the usual answer is no). */
  async function anyDue(grace: number): Promise<boolean> {
    const { rowCount } = await pool.query(`select 1 from ${table} where ${DUE} limit 1`, [grace / 1000]);
    return (rowCount ?? 0) > 0;
  }

  /** Claims, publishes and deletes one batch; returns how many rows it published. */
  async function relayBatch(grace = graceMs): Promise<number> {
    const client = await pool.connect();
    // The connection can die while the batch is being published (no query in flight): pg then
    // emits 'error' on this checked-out client, which the pool does not listen to, and an
    // unhandled 'error' would kill the process. Note it; the next query rejects and we retry.
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('begin');
      const { rows } = await client.query<Row>(
        `select id, subject, payload::text as payload from ${table} where ${DUE}
         order by created_at, id limit $2 for update skip locked`,
        [grace / 1000, batchSize],
      );
      if (rows.length === 0) {
        await client.query('commit');
        return 0;
      }
      const ids = rows.map((r) => r.id);
      await opts.onStep?.('claimed', ids);
      try {
        // Published concurrently: the server still stores them in send order on this connection.
        await Promise.all(
          rows.map((r) => js.publish(`${prefix}.${r.subject}`, r.payload, { msgID: r.id, timeout: 5000 })),
        );
      } catch (err) {
        await client.query('rollback');
        await client.query(`update ${table} set attempts = attempts + 1 where id = any($1)`, [ids]);
        throw err;
      }
      await opts.onStep?.('published', ids);
      await client.query(`delete from ${table} where id = any($1)`, [ids]);
      await opts.onStep?.('deleted', ids);
      await client.query('commit');
      return rows.length;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async function drain(): Promise<void> {
    if (!(await anyDue(graceMs))) return;
    while (running && (await relayBatch()) === batchSize) {
      // a full batch: more are waiting
    }
  }

  async function run(): Promise<void> {
    let backoff = 100;
    while (running) {
      try {
        await drain();
        backoff = 100;
        await sleep(pollMs);
      } catch (err) {
        if (!running) break;
        logger.warn({ err: { message: (err as Error).message } }, 'outbox relay retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      await pool.end();
    },
    wake,
    async backlog() {
      const { rows } = await pool.query<{ n: string }>(`select count(*) as n from ${table} where published_at is null`);
      return Number(rows[0]?.n ?? 0);
    },
    async flush() {
      // Everything now, fresh rows included (tests, shutdown).
      while ((await relayBatch(0)) > 0) {
        // until empty
      }
    },
  };
}
