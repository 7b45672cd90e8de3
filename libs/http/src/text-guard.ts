import type { FastifyInstance } from 'fastify';
import { fieldProblem } from './error-handler.js';

// A UTF-16 surrogate without its pair has no UTF-8 form: the driver would store U+FFFD instead,
// silently changing what the client sent. U+0000 PostgreSQL's text cannot hold at all.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUL = String.fromCharCode(0);

/** Where the first string in `value` that a text column cannot store sits (dotted path), and why. */
export function unstorableText(value: unknown): { field: string; message: string } | undefined {
  // Iterative: a 64 KiB body can nest tens of thousands of levels deep.
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop() as { value: unknown; path: string };
    if (typeof v === 'string') {
      if (v.includes(NUL)) return { field: path, message: 'must not contain U+0000 (NUL)' };
      if (LONE_SURROGATE.test(v)) {
        return { field: path, message: 'must be valid Unicode (it contains a lone UTF-16 surrogate)' };
      }
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) stack.push({ value: child, path: path ? `${path}.${key}` : key });
    }
  }
  return undefined;
}

/**
 * Refuses, with 400 naming the field, any path parameter, query value or body string that a text
 * column cannot store as sent (see `unstorableText`). It runs after identity and role are checked
 * and before the schema, so nothing further ever sees such a string.
 */
export function rejectUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [where, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      const bad = unstorableText(value);
      if (bad) throw fieldProblem(where, bad.field, bad.message);
    }
  });
}
