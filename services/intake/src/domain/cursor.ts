/** Position in a newest-first listing: the last item's created_at and id (ties broken by id). */
export interface Cursor {
  createdAt: string;
  id: string;
}

/** Opaque, URL-safe cursor text for `next_cursor`. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Parses a cursor; undefined when it is not one this API issued. */
export function decodeCursor(text: string): Cursor | undefined {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const [createdAt, id, ...rest] = decoded.split('|');
  if (rest.length > 0 || !createdAt || !id || !UUID.test(id)) return undefined;
  const time = Date.parse(createdAt);
  if (Number.isNaN(time) || new Date(time).toISOString() !== createdAt) return undefined;
  return { createdAt, id };
}
