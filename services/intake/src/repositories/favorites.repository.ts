import { type Orm, sqlOf } from '@dibs/db';

export interface FavoriteView {
  mechanic_id: string;
  first_name: string;
  last_name: string;
  status: string;
  created_at: string;
}

/**
 * A customer's favorite mechanics: set-based SQL through the ORM's pool (`sqlOf`), parameters
 * bound by the driver, so adding one checks the mechanic and inserts in one statement.
 */
export function createFavoritesRepository(orm: Orm) {
  const sql = sqlOf(orm.em);
  return {
    /** Adds the favorite; 'added', 'exists', or 'unknown_mechanic'. */
    async add(customerId: string, mechanicId: string): Promise<'added' | 'exists' | 'unknown_mechanic'> {
      const { rows } = await sql.query<{ mechanic: boolean; inserted: boolean }>(
        `with m as (select id from mechanics where id = $1),
              ins as (insert into favorites (customer_id, mechanic_id) select $2::uuid, id from m
                      on conflict (customer_id, mechanic_id) do nothing returning 1)
         select exists (select 1 from m) as mechanic, exists (select 1 from ins) as inserted`,
        [mechanicId, customerId],
      );
      const row = rows[0];
      if (!row?.mechanic) return 'unknown_mechanic';
      return row.inserted ? 'added' : 'exists';
    },
    async remove(customerId: string, mechanicId: string): Promise<void> {
      await sql.query('delete from favorites where customer_id = $1 and mechanic_id = $2', [customerId, mechanicId]);
    },
    async list(customerId: string): Promise<FavoriteView[]> {
      // The ORM's pool hands timestamptz over as text, not as a Date.
      const { rows } = await sql.query<{
        mechanic_id: string;
        first_name: string;
        last_name: string;
        status: string;
        created_at: string | Date;
      }>(
        `select f.mechanic_id, m.first_name, m.last_name, m.status, f.created_at
         from favorites f join mechanics m on m.id = f.mechanic_id
         where f.customer_id = $1 order by f.created_at desc, f.id desc`,
        [customerId],
      );
      return rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
    },
    async isFavorite(customerId: string, mechanicId: string): Promise<boolean> {
      const { rowCount } = await sql.query('select 1 from favorites where customer_id = $1 and mechanic_id = $2', [
        customerId,
        mechanicId,
      ]);
      return rowCount > 0;
    },
  };
}
export type FavoritesRepository = ReturnType<typeof createFavoritesRepository>;
