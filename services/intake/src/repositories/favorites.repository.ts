import { type Orm, sqlOf, unitOfWork } from '@dibs/db';

export interface FavoriteView {
  mechanic_id: string;
  first_name: string;
  last_name: string;
  status: string;
  /** 1–3 in a ranked customer's sequence (CONTRACT §6), null when unranked. */
  rank: number | null;
  created_at: string;
}

/** A customer who has a mechanic among their favorites, as that mechanic sees them (CONTRACT §7). */
export interface FavoritedByView {
  customer_id: string;
  /** The first word of the customer's name: never the full name or the email. */
  first_name: string;
  favorited_at: string;
  /** Where the customer ranks this mechanic (1–3), null when unranked. */
  rank: number | null;
}

/** Why a ranking was refused: the position (0-based) of the first id that is not a favorite. */
export type OrderOutcome =
  | { ok: true; favorites: FavoriteView[] }
  | { ok: false; code: 'not_a_favorite' | 'unknown_mechanic'; index: number };

/**
 * A customer's favorite mechanics: set-based SQL through the ORM's pool (`sqlOf`), parameters
 * bound by the driver, so adding one checks the mechanic and inserts in one statement. Ranks are
 * unique per customer (checked at the end of each statement), and stay 1…n: a ranked favorite
 * removed moves the ones after it up.
 */
export function createFavoritesRepository(orm: Orm) {
  const sql = sqlOf(orm.em);
  const inTransaction = unitOfWork(orm, { outbox: 'intake' });

  async function list(customerId: string): Promise<FavoriteView[]> {
    // The ORM's pool hands timestamptz over as text, not as a Date.
    const { rows } = await sql.query<{
      mechanic_id: string;
      first_name: string;
      last_name: string;
      status: string;
      rank: number | null;
      created_at: string | Date;
    }>(
      `select f.mechanic_id, m.first_name, m.last_name, m.status, f.rank, f.created_at
       from favorites f join mechanics m on m.id = f.mechanic_id
       where f.customer_id = $1 order by f.rank nulls last, f.created_at desc, f.id desc`,
      [customerId],
    );
    return rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
  }

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
    /** Removes the favorite; the ranked favorites after it move up one. */
    async remove(customerId: string, mechanicId: string): Promise<void> {
      await sql.query(
        `with gone as (delete from favorites where customer_id = $1 and mechanic_id = $2 returning rank)
         update favorites f set rank = f.rank - 1
         from gone where f.customer_id = $1 and gone.rank is not null and f.rank > gone.rank`,
        [customerId, mechanicId],
      );
    },
    list,
    /**
     * Replaces the customer's ranking with `mechanicIds` (1–3 distinct, in rank order): each must
     * already be a favorite; every other favorite becomes unranked. All or nothing.
     */
    async setOrder(customerId: string, mechanicIds: string[]): Promise<OrderOutcome> {
      const refused = await inTransaction(async (tx) => {
        // Locks the customer's favorites: a favorite removed meanwhile cannot slip in between.
        const { rows } = await tx.query<{ mechanic_id: string }>(
          'select mechanic_id from favorites where customer_id = $1 for update',
          [customerId],
        );
        const favorites = new Set(rows.map((r) => r.mechanic_id));
        const index = mechanicIds.findIndex((id) => !favorites.has(id));
        if (index >= 0) {
          const { rowCount } = await tx.query('select 1 from mechanics where id = $1', [mechanicIds[index]]);
          return { code: rowCount ? ('not_a_favorite' as const) : ('unknown_mechanic' as const), index };
        }
        await tx.query(
          `update favorites set rank = array_position($2::uuid[], mechanic_id)
           where customer_id = $1 and (rank is not null or mechanic_id = any($2::uuid[]))`,
          [customerId, mechanicIds],
        );
        return null;
      });
      if (refused) return { ok: false, ...refused };
      return { ok: true, favorites: await list(customerId) };
    },
    /**
     * The customers who have `mechanicId` among their favorites, newest first. Only the first
     * word of each name leaves the database: the rest of it and the email are not the mechanic's.
     */
    async favoritedBy(mechanicId: string): Promise<FavoritedByView[]> {
      const { rows } = await sql.query<Omit<FavoritedByView, 'favorited_at'> & { favorited_at: string | Date }>(
        `select f.customer_id, coalesce((regexp_match(c.name, '\\S+'))[1], '') as first_name,
           f.created_at as favorited_at, f.rank
         from favorites f join customers c on c.id = f.customer_id
         where f.mechanic_id = $1 order by f.created_at desc, f.id desc`,
        [mechanicId],
      );
      return rows.map((r) => ({ ...r, favorited_at: new Date(r.favorited_at).toISOString() }));
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
