import { createOrm, type Orm } from '@dibs/db';
import { createTestDatabase, type TestDatabase } from '@dibs/testing';
import { afterAll, beforeAll } from 'vitest';

/**
 * A database of the test file's own and an ORM on it with one connection (what one statement
 * prepared, the next one sees), opened before the file's tests and freed after them.
 */
export function useDatabase(): { readonly db: TestDatabase; readonly orm: Orm } {
  const state = {} as { db: TestDatabase; orm: Orm };
  beforeAll(async () => {
    state.db = await createTestDatabase();
    state.orm = await createOrm({ url: state.db.url, poolMax: 1 });
  });
  afterAll(async () => {
    await state.orm?.close();
    await state.db?.drop();
  });
  return state;
}
