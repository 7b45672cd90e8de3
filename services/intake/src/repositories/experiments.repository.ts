import { pgCode, type Sql } from '@dibs/db';

export interface ExperimentArmView {
  name: string;
  window_minutes: number;
  weight: number;
}

export interface ExperimentView {
  key: string;
  arms: ExperimentArmView[];
  active: boolean;
  created_at: string;
  updated_at: string;
}

/** Why a write was refused: the key is taken, or another experiment is active. */
export type ExperimentConflict = 'experiment_exists' | 'experiment_active';

interface Row {
  key: string;
  arms: ExperimentArmView[];
  active: boolean;
  created_at: string | Date;
  updated_at: string | Date;
}

const COLUMNS = 'key, arms, active, created_at, updated_at';

const view = (row: Row): ExperimentView => ({
  key: row.key,
  arms: row.arms,
  active: row.active,
  created_at: new Date(row.created_at).toISOString(),
  updated_at: new Date(row.updated_at).toISOString(),
});

/**
 * The conflict a refused write ran into. "At most one active" is the unique index
 * `experiments_one_active`, so two activations racing each other are decided by PostgreSQL, not
 * by a look before the write.
 */
function conflictOf(err: unknown): ExperimentConflict | undefined {
  if (pgCode(err) !== '23505') return undefined;
  const constraint = (err as { constraint?: unknown }).constraint;
  if (constraint === 'experiments_one_active') return 'experiment_active';
  if (constraint === 'experiments_pkey') return 'experiment_exists';
  return undefined;
}

/**
 * Experiments on the window length (CONTRACT §7), each one statement through the ORM's pool. The
 * booking statement reads the active one itself, so nothing here is cached.
 */
export function createExperimentsRepository(sql: Sql) {
  /** Runs one write; a unique violation becomes the conflict it means. */
  async function write(
    text: string,
    values: unknown[],
  ): Promise<{ ok: true; row: Row | undefined } | { ok: false; code: ExperimentConflict }> {
    try {
      const { rows } = await sql.query<Row>(text, values);
      return { ok: true, row: rows[0] };
    } catch (err) {
      const code = conflictOf(err);
      if (code) return { ok: false, code };
      throw err;
    }
  }

  return {
    /** Creates the experiment, inactive unless `active`. */
    async create(input: {
      key: string;
      arms: ExperimentArmView[];
      active: boolean;
    }): Promise<{ ok: true; value: ExperimentView } | { ok: false; code: ExperimentConflict }> {
      const result = await write(
        `insert into experiments (key, arms, active) values ($1, $2::jsonb, $3) returning ${COLUMNS}`,
        [input.key, JSON.stringify(input.arms), input.active],
      );
      return result.ok ? { ok: true, value: view(result.row as Row) } : result;
    },
    async get(key: string): Promise<ExperimentView | undefined> {
      const { rows } = await sql.query<Row>(`select ${COLUMNS} from experiments where key = $1`, [key]);
      return rows[0] ? view(rows[0]) : undefined;
    },
    /** Every experiment, the newest first. */
    async list(): Promise<ExperimentView[]> {
      const { rows } = await sql.query<Row>(`select ${COLUMNS} from experiments order by created_at desc, key`);
      return rows.map(view);
    },
    /** Starts or stops the experiment; undefined when there is no such experiment. */
    async setActive(
      key: string,
      active: boolean,
    ): Promise<{ ok: true; value: ExperimentView | undefined } | { ok: false; code: ExperimentConflict }> {
      const result = await write(`update experiments set active = $2 where key = $1 returning ${COLUMNS}`, [
        key,
        active,
      ]);
      return result.ok ? { ok: true, value: result.row && view(result.row) } : result;
    },
  };
}
export type ExperimentsRepository = ReturnType<typeof createExperimentsRepository>;
