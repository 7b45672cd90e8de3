import pg from 'pg';

/** Counters of one database (pg_stat_database) and of the cluster's WAL (pg_stat_wal). */
export type DbCounters = Record<(typeof DB_FIELDS)[number] | (typeof WAL_FIELDS)[number], number>;

const DB_FIELDS = [
  'xact_commit',
  'xact_rollback',
  'tup_returned',
  'tup_fetched',
  'tup_inserted',
  'tup_updated',
  'tup_deleted',
] as const;
const WAL_FIELDS = ['wal_records', 'wal_fpi', 'wal_bytes', 'wal_sync'] as const;
const TABLE_FIELDS = [
  'seq_scan',
  'seq_tup_read',
  'idx_scan',
  'idx_tup_fetch',
  'n_tup_ins',
  'n_tup_upd',
  'n_tup_hot_upd',
  'n_tup_del',
];

/**
 * What PostgreSQL did for one database during a step: its statistics counters (each backend
 * flushes them at most once a second, so a reading taken a second or two after a step ends is
 * complete to within that), per-table scans and writes, and samples of what its busy backends
 * were waiting on (`pg_stat_activity.wait_event`), which is where a lock or a serialized commit shows.
 */
export function pgActivity(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const dbName = new URL(databaseUrl).pathname.slice(1);

  async function counters(): Promise<{ db: DbCounters; tables: Map<string, Record<string, number>> }> {
    const db = (
      await pool.query(
        `select ${DB_FIELDS.join(', ')}, ${WAL_FIELDS.join(', ')}
         from pg_stat_database, pg_stat_wal where datname = $1`,
        [dbName],
      )
    ).rows[0] as Record<string, string>;
    const tables = new Map<string, Record<string, number>>();
    for (const row of (await pool.query(`select relname, ${TABLE_FIELDS.join(', ')} from pg_stat_user_tables`))
      .rows as Record<string, string>[]) {
      tables.set(row.relname as string, Object.fromEntries(TABLE_FIELDS.map((f) => [f, Number(row[f] ?? 0)])));
    }
    // Index entries read per index: where a scan walks far more than it returns (dead entries).
    for (const row of (
      await pool.query(`select indexrelname, idx_scan, idx_tup_read, idx_tup_fetch from pg_stat_user_indexes`)
    ).rows as Record<string, string>[]) {
      tables.set(`index ${row.indexrelname}`, {
        idx_scan: Number(row.idx_scan),
        idx_tup_read: Number(row.idx_tup_read),
        idx_tup_fetch: Number(row.idx_tup_fetch),
      });
    }
    return {
      db: Object.fromEntries([...DB_FIELDS, ...WAL_FIELDS].map((f) => [f, Number(db[f] ?? 0)])) as DbCounters,
      tables,
    };
  }

  return {
    /** Starts a step: the returned function ends it and gives counter deltas and wait samples. */
    async start(sampleEveryMs = 100) {
      const before = await counters();
      const waits = new Map<string, number>();
      let samples = 0;
      let sampling = true;
      const started = performance.now();
      /** Moments (ms into the step) when many backends were busy, and on what (BENCH_VERBOSE). */
      const crowded: string[] = [];
      const sampler = (async () => {
        while (sampling) {
          const { rows } = await pool
            .query<{ w: string; n: number }>({
              name: 'bench-waits',
              text: `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, count(*)::int as n
               from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid()
               group by 1`,
              values: [dbName],
            })
            .catch(() => ({ rows: [] }));
          samples++;
          for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + r.n);
          const busy = rows.reduce((n, r) => n + r.n, 0);
          if (busy >= 4)
            crowded.push(`${Math.round(performance.now() - started)}:${rows.map((r) => `${r.w}=${r.n}`).join('+')}`);
          await new Promise((r) => setTimeout(r, sampleEveryMs));
        }
      })();
      return async () => {
        sampling = false;
        await sampler;
        const after = await counters();
        const db = Object.fromEntries(
          Object.entries(after.db).map(([k, v]) => [k, v - (before.db[k as keyof DbCounters] ?? 0)]),
        ) as DbCounters;
        const tables: Record<string, Record<string, number>> = {};
        for (const [name, a] of after.tables) {
          const b = before.tables.get(name) ?? {};
          const d = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
          if (Object.values(d).some((v) => v !== 0)) tables[name] = d;
        }
        // Average number of backends in each state over the step (samples are `sampleEveryMs` apart).
        const avgWaiting = Object.fromEntries(
          [...waits]
            .sort((x, y) => y[1] - x[1])
            .map(([w, n]) => [w, Math.round((n / Math.max(1, samples)) * 100) / 100]),
        );
        return { db, tables, avgWaiting, crowded };
      };
    },
    close: () => pool.end(),
  };
}
