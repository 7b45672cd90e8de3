import type { Sql } from '@dibs/db';

export interface PlanView {
  code: string;
  name: string;
  price_cents: number;
  currency: string;
  updated_at: string;
}

interface Row extends Omit<PlanView, 'updated_at'> {
  updated_at: string | Date;
  inserted?: boolean;
}

const COLUMNS = 'code, name, price_cents, currency, updated_at';

const view = ({ code, name, price_cents, currency, updated_at }: Row): PlanView => ({
  code,
  name,
  price_cents,
  currency,
  updated_at: new Date(updated_at).toISOString(),
});

/**
 * Plans and their prices (CONTRACT §7): integer cents of one currency, keyed by the `plan_code`
 * bookings carry. Routing reads a plan's price when a request is accepted, so a change governs the
 * next accept.
 */
export function createPlansRepository(sql: Sql) {
  return {
    /** Creates or replaces the plan in one statement; `created` tells which. */
    async put(
      code: string,
      plan: { name: string; price_cents: number; currency: string },
    ): Promise<{ created: boolean; plan: PlanView }> {
      // `xmax = 0`: the row version was inserted by this statement, not updated by its ON CONFLICT.
      const { rows } = await sql.query<Row>(
        `insert into plans (code, name, price_cents, currency) values ($1, $2, $3, $4)
         on conflict (code) do update set name = excluded.name, price_cents = excluded.price_cents,
           currency = excluded.currency
         returning ${COLUMNS}, (xmax = 0) as inserted`,
        [code, plan.name, plan.price_cents, plan.currency],
      );
      const row = rows[0] as Row;
      return { created: row.inserted === true, plan: view(row) };
    },
    /** Every plan, by code. */
    async list(): Promise<PlanView[]> {
      const { rows } = await sql.query<Row>(`select ${COLUMNS} from plans order by code`);
      return rows.map(view);
    },
  };
}
export type PlansRepository = ReturnType<typeof createPlansRepository>;
