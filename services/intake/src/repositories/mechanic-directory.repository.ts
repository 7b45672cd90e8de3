import type { Sql } from '@dibs/db';

/** An approved mechanic as customers see them (CONTRACT §8): a name, never an email or a status. */
export interface DirectoryEntry {
  id: string;
  first_name: string;
  last_name: string;
}

/** Where a page of the directory ends: the sort key of its last entry (names lowercased, then id). */
export interface DirectoryKey {
  last: string;
  first: string;
  id: string;
}

/**
 * The directory of approved mechanics, by name (last, first, case-insensitively; id breaks ties),
 * for customers choosing a favorite. Keyset pages: a page never repeats or skips a mechanic
 * because another was added meanwhile.
 */
export function createMechanicDirectoryRepository(sql: Sql) {
  return {
    /** Up to `limit` approved mechanics after `after` whose "first last" name contains `query`. */
    async list(opts: { query?: string | undefined; limit: number; after?: DirectoryKey | undefined }) {
      const pattern = opts.query ? `%${opts.query.replace(/[\\%_]/g, '\\$&')}%` : null;
      const { rows } = await sql.query<DirectoryEntry & { last_key: string; first_key: string }>({
        name: 'intake-mechanic-directory',
        text: `select id, first_name, last_name, lower(last_name) as last_key, lower(first_name) as first_key
                 from mechanics
                where status = 'approved'
                  and ($1::text is null or (first_name || ' ' || last_name) ilike $1)
                  and ($2::text is null or (lower(last_name), lower(first_name), id) > ($2::text, $3::text, $4::uuid))
                order by lower(last_name), lower(first_name), id
                limit $5`,
        values: [pattern, opts.after?.last ?? null, opts.after?.first ?? null, opts.after?.id ?? null, opts.limit],
      });
      return rows.map(({ id, first_name, last_name, last_key, first_key }) => ({
        entry: { id, first_name, last_name },
        key: { last: last_key, first: first_key, id },
      }));
    },
  };
}
export type MechanicDirectoryRepository = ReturnType<typeof createMechanicDirectoryRepository>;
