import type { Orm } from '@dibs/db';

export interface FavoriteView {
  mechanic_id: string;
  first_name: string;
  last_name: string;
  status: string;
  created_at: string;
}

/** A customer's favorite mechanics. */
export function createFavoritesRepository(orm: Orm) {
  const conn = () => orm.em.getConnection();
  return {
    /** Adds the favorite; 'added', 'exists', or 'unknown_mechanic'. */
    async add(customerId: string, mechanicId: string): Promise<'added' | 'exists' | 'unknown_mechanic'> {
      const rows = await conn().execute<{ inserted: boolean }[]>(
        `with m as (select id from mechanics where id = ?),
              ins as (insert into favorites (customer_id, mechanic_id) select ?, id from m
                      on conflict (customer_id, mechanic_id) do nothing returning 1)
         select exists (select 1 from m) as mechanic, exists (select 1 from ins) as inserted`,
        [mechanicId, customerId],
      );
      const row = rows[0] as unknown as { mechanic: boolean; inserted: boolean };
      if (!row.mechanic) return 'unknown_mechanic';
      return row.inserted ? 'added' : 'exists';
    },
    async remove(customerId: string, mechanicId: string): Promise<void> {
      await conn().execute('delete from favorites where customer_id = ? and mechanic_id = ?', [customerId, mechanicId]);
    },
    async list(customerId: string): Promise<FavoriteView[]> {
      const rows = await conn().execute<
        { mechanic_id: string; first_name: string; last_name: string; status: string; created_at: Date }[]
      >(
        `select f.mechanic_id, m.first_name, m.last_name, m.status, f.created_at
         from favorites f join mechanics m on m.id = f.mechanic_id
         where f.customer_id = ? order by f.created_at desc, f.id desc`,
        [customerId],
      );
      return rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
    },
    async isFavorite(customerId: string, mechanicId: string): Promise<boolean> {
      const rows = await conn().execute('select 1 from favorites where customer_id = ? and mechanic_id = ?', [
        customerId,
        mechanicId,
      ]);
      return rows.length > 0;
    },
  };
}
export type FavoritesRepository = ReturnType<typeof createFavoritesRepository>;
