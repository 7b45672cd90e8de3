import fc from 'fast-check';

// Hostile values for the HTTP fuzzing (fuzz.test.ts): text, JSON, bodies, headers, path
// segments and query strings.

/** Odd text a client may send: NUL, lone surrogates, bidi overrides, emoji, injection shapes. */
const ODD_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '\ud83d',
  '\u202eevil\u202c',
  '\u200f\u0645\u0631\u062d\u0628\u0627',
  '🔧🚗',
  '👨‍👩‍👧‍👦',
  'e\u0301',
  '\ufeff',
  '\u200b',
  '\uffff',
  '\r\n',
  '\t',
  '\\',
  '"',
  "'; drop table customers; --",
  '%00',
  '%',
  '%zz',
  '../..',
  '$' + '{jndi:ldap://x}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  'prototype',
  '0',
  '-1',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{12345678-1234-1234-1234-123456789012}',
  '12345678123412341234123456789012',
  ' 12345678-1234-4234-9234-123456789012',
  '12345678-1234-4234-9234-12345678901Z',
];

/** Any UTF-16 code unit, so lone surrogates and control characters come up too. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Text of ordinary size with odd characters. */
export const oddText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

/** Odd text, now and then far larger than any field allows (and than the 64 KiB body limit). */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: oddText },
  { weight: 1, arbitrary: fc.integer({ min: 101, max: 40_000 }).map((n) => 'é'.repeat(n)) },
);

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];
export const hostileKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'id', 'status'), oddText);

/** A JSON object written out as key/value pairs, so `__proto__` and repeated keys survive to the wire. */
export class JsonObject {
  constructor(readonly entries: [string, Json][]) {}
}
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** JSON text for a value (lone surrogates become `\udxxx` escapes, as JSON.stringify writes them). */
export function toJson(v: Json): string {
  if (v instanceof JsonObject) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  return JSON.stringify(v) ?? 'null';
}

const hostileScalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 53 + 2, -0, 1e308, -1, 101, 1.5),
);

/** Any JSON value, prototype keys included, a few levels deep. */
export const hostileJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((e) => new JsonObject(e)),
  ),
})).value;

/** Bodies that are not JSON, or JSON no parser should enjoy. */
const RAW_BODIES = [
  '',
  ' ',
  '{',
  '}',
  '[]',
  'null',
  '1',
  '"x"',
  '{"a":1}{',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1e400}',
  '{"a":-}',
  '\u0000',
  '\ufeff{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"a":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
];

/** Raw payloads: not JSON, broken UTF-8 bytes, or arbitrary text. */
export const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(...RAW_BODIES),
  fc.json(),
  oddText,
  fc.constantFrom(
    Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
    Buffer.from('{"name":"\xc0\x80"}', 'latin1'),
    Buffer.from('{"name":"\xed\xa0\x80"}', 'latin1'),
    Buffer.from('{"session_type":"\xff","plan_code":"p"}', 'latin1'),
  ),
);

export const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=UTF-8',
  'application/json; charset=latin1',
  'application/json, text/plain',
  'application/problem+json',
  'application/merge-patch+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/',
  ';',
  'application/json; boundary="',
];

/** Printable ASCII and Latin-1, the bytes an HTTP header value may carry. */
const headerUnit = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.constant(0x09),
);
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: headerUnit.map((c) => String.fromCharCode(c)), maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((n) => 'h'.repeat(n)) },
);
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'authorization', 'content-type']);

/** Headers a client may add: odd names and values, repeated request ids, ranges, caching. */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.oneof(
      fc.tuple(headerName, headerValue),
      fc.tuple(
        fc.constantFrom(
          'x-request-id',
          'accept',
          'accept-encoding',
          'accept-language',
          'origin',
          'x-forwarded-for',
          'if-none-match',
          'if-modified-since',
          'range',
          'cookie',
          'expect',
          'idempotency-key',
        ),
        fc.oneof(
          headerValue,
          fc.constantFrom('bytes=999999999-', 'bytes=-1', 'bytes=0-0,1-1,2-2', 'gzip, br, *;q=0', '100-continue'),
        ),
      ),
    ),
    { maxLength: 6 },
  )
  .map((pairs) => Object.fromEntries(pairs.filter(([k]) => !RESERVED_HEADERS.has(k))));

/** Percent-encodes text; lone surrogates become their (invalid) three UTF-8-like bytes. */
export function encodeText(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

/** A path segment and whether the router can route it (valid encoding, ≤ 100 chars, not a dot segment). */
export interface Segment {
  text: string;
  routable: boolean;
}

const BROKEN_SEGMENTS = ['%', '%E0%A4%A', '%zz', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%2e%2e', '.', '..', ''];

/** A hostile path segment: odd text (encoded), broken encodings, or far too long. */
export const hostileSegment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 4, arbitrary: oddText.map(encodeSegment) },
  { weight: 1, arbitrary: fc.constantFrom(...BROKEN_SEGMENTS).map((text) => ({ text, routable: false })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 90, max: 20_000 }).map((n) => ({ text: 'a'.repeat(n), routable: n <= 100 })),
  },
);

function encodeSegment(s: string): Segment {
  const text = encodeText(s);
  const wellFormed = s.isWellFormed() && !s.includes('\u0000');
  return { text, routable: wellFormed && text.length > 0 && text.length <= 100 && s !== '.' && s !== '..' };
}

/** A query string: known keys with the given values, unknown and prototype keys, repeats, broken encodings. */
export function queryString(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const keys = Object.keys(known);
  const pair = fc.oneof(
    ...keys.map((k) =>
      fc.tuple(
        fc.constant(k),
        fc.oneof({ weight: 3, arbitrary: known[k] as fc.Arbitrary<string> }, { weight: 1, arbitrary: oddText }),
      ),
    ),
    fc.tuple(hostileKey, oddText),
  );
  const encoded = fc
    .array(pair, { maxLength: keys.length + 2 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeText(k)}=${encodeText(v)}`));
  const raw = fc.constantFrom('%', 'a=%E0%A4%A', '=', '&&&', 'a', 'a=1&a=2', '%00=1', `a=${'q'.repeat(5000)}`);
  return fc
    .tuple(encoded, fc.option(raw, { freq: 5 }))
    .map(([parts, r]) => [...parts, ...(r === null ? [] : [r])].join('&'));
}

/** Valid-looking field values, for bodies that are mostly right. */
export const validText = (max: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 20) });
export const isoTime = fc
  .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());
