import { createHash } from 'node:crypto';
import { migrationsList } from '@dibs/db';

/** A short hash of every migration's code: a changed migration gets a fresh template database. */
export function migrationsFingerprint(): string {
  const h = createHash('sha256');
  for (const m of migrationsList) h.update(m.name).update(m.class.toString());
  return h.digest('hex').slice(0, 12);
}
