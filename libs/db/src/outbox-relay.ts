import type { Logger } from '@dibs/logger';
import type { JetStreamClient } from '@nats-io/jetstream';
import pg from 'pg';

export interface OutboxRelayOptions {
  databaseUrl: string;
  js: JetStreamClient;
  /** NATS_PREFIX; stored subjects are relative to it. */
  prefix: string;
  logger: Logger;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /** Safety-net poll when no NOTIFY arrives (a missed notification, rows left by a crashed relay). */
  pollMs?: number;
  /**
   * Rows younger than this are left to the service's fast path (`createOutboxPublisher`); the
   * relay takes them only if they are still unpublished after it. 0 when there is no fast path.
   */
  graceMs?: number;
  /** Published rows are deleted after this long. */
  retentionMs?: number;
  /**
   * Fault-injection seam for tests: called at each step of a batch (rows claimed, published to
   * NATS, marked in the still-open transaction) so a test can kill the process right there.
   */
  onStep?: (step: RelayStep, ids: string[]) => Promise<void> | void;
}

export interface OutboxRelay {
  /** Starts the relay loop; resolves once it listens. */
  start(): Promise<void>;
  /** Stops claiming new rows, finishes the batch in flight and frees the connections. */
  stop(): Promise<void>;
  /** Rows not yet published (for /metrics). */
  backlog(): Promise<number>;
  /** Publishes everything pending now, ignoring the grace time; resolves when the outbox is empty. */
  flush(): Promise<void>;
}

export type RelayStep = 'claimed' | 'published' | 'marked';

interface Row {
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * The outbox relay: publishes committed outbox rows to JetStream with `Nats-Msg-Id` = row id and
 * marks them sent. Rows are claimed `FOR UPDATE SKIP LOCKED` inside a transaction that stays open
 * until they are marked, so replicas never publish the same row concurrently and a crash between
 * publish and mark only causes a republish that the stream's duplicate window drops.
 */
export function createOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { databaseUrl, js, prefix, logger } = opts;
  const batchSize = opts.batchSize ?? 200;
  const pollMs = opts.pollMs ?? 1000;
  const retentionMs = opts.retentionMs ?? 3600_000;
  const graceMs = opts.graceMs ?? 0;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', (err) => logger.warn({ err }, 'outbox pool connection error'));

  let listener: pg.Client | undefined;
  let running = false;
  let wake: (() => void) | undefined;
  let pendingWake = false;
  let loop: Promise<void> | undefined;
  let lastCleanup = 0;

  function signal(): void {
    pendingWake = true;
    wake?.();
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
        wake = undefined;
        pendingWake = false;
        resolve();
      }
      wake = done;
    });
  }

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl });
    client.on('notification', signal);
    client.on('error', (err) => {
      logger.warn({ err }, 'outbox listener lost its connection');
      if (listener === client) listener = undefined;
    });
    await client.connect();
    await client.query('listen dibs_outbox');
    listener = client;
  }

  /** Claims, publishes and marks one batch; returns how many rows it published. */
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
        `select id, subject, payload from outbox
         where published_at is null and created_at <= clock_timestamp() - make_interval(secs => $2)
         order by created_at, id limit $1 for update skip locked`,
        [batchSize, grace / 1000],
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
          rows.map((r) =>
            js.publish(`${prefix}.${r.subject}`, JSON.stringify(r.payload), { msgID: r.id, timeout: 5000 }),
          ),
        );
      } catch (err) {
        await client.query('rollback');
        await client.query('update outbox set attempts = attempts + 1 where id = any($1)', [ids]);
        throw err;
      }
      await opts.onStep?.('published', ids);
      await client.query('update outbox set published_at = clock_timestamp() where id = any($1)', [ids]);
      await opts.onStep?.('marked', ids);
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
    while (running && (await relayBatch()) > 0) {
      // keep going while rows keep coming
    }
  }

  async function cleanup(): Promise<void> {
    if (Date.now() - lastCleanup < 60_000) return;
    lastCleanup = Date.now();
    await pool.query(`delete from outbox where published_at < now() - make_interval(secs => $1)`, [retentionMs / 1000]);
  }

  async function run(): Promise<void> {
    let backoff = 100;
    while (running) {
      try {
        if (!listener) await listen();
        await drain();
        await cleanup();
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
      try {
        await listen();
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message } }, 'outbox listener not connected yet; polling');
      }
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await listener?.end().catch(() => undefined);
      listener = undefined;
      await pool.end();
    },
    async backlog() {
      const { rows } = await pool.query<{ n: string }>('select count(*) as n from outbox where published_at is null');
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
