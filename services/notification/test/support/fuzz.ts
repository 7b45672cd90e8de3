import { CLIENT_FRAME_TYPES } from '@dibs/contracts';
import fc from 'fast-check';
import { z } from 'zod';

// Client frames for fuzz.test.ts: every kind, each with the answer CONTRACT §4 promises for it.

/** Odd text: NUL, lone surrogates, bidi overrides, emoji, prototype names, uuid look-alikes. */
const ODD_TEXT = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  'x\udc00y',
  '\u202eevil\u202c',
  '\u0645\u0631\u062d\u0628\u0627',
  '🔧🚗',
  '👨‍👩‍👧‍👦',
  '\ufeff',
  '\uffff',
  '\r\n',
  '"',
  '\\',
  '__proto__',
  'constructor',
  'toString',
  'null',
  '00000000-0000-0000-0000-000000000000',
  '{12345678-1234-1234-1234-123456789012}',
  '12345678-1234-4234-9234-12345678901Z',
  ' 12345678-1234-4234-9234-123456789012',
];
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

export const oddText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 40_000 }).map((n) => 'é'.repeat(n)) },
);

/** A JSON object kept as key/value pairs, so `__proto__` and repeated keys reach the wire. */
export class JsonObject {
  constructor(readonly entries: [string, Json][]) {}
}
/** JSON text placed as is. */
export class RawJson {
  constructor(readonly text: string) {}
}
export type Json = null | boolean | number | string | Json[] | JsonObject | RawJson;

export function toJson(v: Json): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof JsonObject) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  return JSON.stringify(v) ?? 'null';
}

const FRAME_KEYS = new Set(['type', 'request_id', 'ref']);
const key = fc
  .oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'at'), oddText)
  .filter((k) => !FRAME_KEYS.has(k) && k.length < 200);

export const hostileJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((e) => new JsonObject(e)),
  ),
})).value;

/** Extra members a frame may carry, which the gateway must ignore. */
const extras = fc.array(fc.tuple(key, hostileJson), { maxLength: 2 });

/** What the gateway must answer a frame with (before the 16 KiB bound, which overrides it). */
export type Expected =
  | { answer: 'pong' }
  | { answer: 'command'; command: 'accept' | 'decline'; ref: string | undefined; requestId: string }
  /** Nothing when the connection was offered the request, else `not_offered` (fuzz.test.ts knows which). */
  | { answer: 'seen'; requestId: string }
  | { answer: 'result'; code: 'invalid_command'; ref: string | undefined }
  | { answer: 'error'; code: 'invalid_json' | 'invalid_frame' | 'unknown_type' };

export interface FuzzFrame {
  data: string | Buffer;
  binary: boolean;
  expected: Expected | { answer: 'error'; code: 'frame_too_large' };
}

const MAX_FRAME_BYTES = 16 * 1024;

function frame(text: string | Buffer, expected: Expected, binary: boolean): FuzzFrame {
  const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  return {
    data: text,
    binary,
    expected: bytes > MAX_FRAME_BYTES ? { answer: 'error', code: 'frame_too_large' } : expected,
  };
}

const object = (entries: [string, Json][], extra: [string, Json][]) => toJson(new JsonObject([...entries, ...extra]));

type Kind = { text: string; expected: Expected };

// A ref goes in as JSON text, and the gateway must echo that very value.
const ref = fc.option(hostileJson.map(toJson), { freq: 4 });
const withRef = (entries: [string, Json][], r: string | null): [string, Json][] =>
  r === null ? entries : [...entries, ['ref', new RawJson(r)]];

/**
 * Well-formed frames of each client frame type, with the answer each must get; fuzz.test.ts
 * checks that every type the contract lists has one.
 */
export function wellFormedFrames(requestIds: string[]): Record<string, fc.Arbitrary<Kind>> {
  const commandOf = (type: 'accept' | 'decline'): fc.Arbitrary<Kind> =>
    fc.tuple(fc.oneof(fc.constantFrom(...requestIds), fc.uuid()), ref, extras).map(([id, r, extra]) => ({
      text: object(
        withRef(
          [
            ['type', type],
            ['request_id', id],
          ],
          r,
        ),
        extra,
      ),
      expected: { answer: 'command', command: type, ref: r ?? undefined, requestId: id },
    }));
  return {
    ping: extras.map((extra) => ({ text: object([['type', 'ping']], extra), expected: { answer: 'pong' } })),
    accept: commandOf('accept'),
    decline: commandOf('decline'),
    // A ref on a seen is one of the members the gateway ignores.
    seen: fc.tuple(fc.oneof(fc.constantFrom(...requestIds), fc.uuid()), ref, extras).map(([id, r, extra]) => ({
      text: object(
        withRef(
          [
            ['type', 'seen'],
            ['request_id', id],
          ],
          r,
        ),
        extra,
      ),
      expected: { answer: 'seen', requestId: id },
    })),
  };
}

/**
 * Client frames of every kind: well-formed ones of each type (accept/decline/seen of known
 * requests and unknown ones), frames whose request id is not a uuid (a command gets a result, a
 * seen an error), unknown types, JSON that is not an object, text that is not JSON, frames over
 * 16 KiB, and binary frames.
 */
export function clientFrames(requestIds: string[]): fc.Arbitrary<FuzzFrame> {
  const withRequestId = fc.constantFrom('accept', 'decline', 'seen');

  const kinds = fc.oneof(
    ...Object.values(wellFormedFrames(requestIds)),
    fc
      .tuple(withRequestId, fc.oneof(oddText, fc.integer(), fc.constant(null), fc.constant(undefined)), ref, extras)
      .filter(([, id]) => !z.uuid().safeParse(id).success)
      .map(([type, id, r, extra]) => {
        const entries: [string, Json][] =
          id === undefined
            ? [['type', type]]
            : [
                ['type', type],
                ['request_id', id],
              ];
        const expected: Expected =
          type === 'seen'
            ? { answer: 'error', code: 'invalid_frame' }
            : { answer: 'result', code: 'invalid_command', ref: r ?? undefined };
        return { text: object(withRef(entries, r), extra), expected };
      }),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom('Seen', 'subscribe', 'ACCEPT', 'accept ', 'Ping', '__proto__', 'constructor', 'toString', ''),
          oddText,
          fc.integer(),
          fc.constant(null),
          fc.constant([]),
          fc.constant(new JsonObject([['type', 'ping']])),
        ),
        extras,
      )
      .filter(([t]) => !(CLIENT_FRAME_TYPES as readonly unknown[]).includes(t))
      .map(([t, extra]) => ({
        text: object([['type', t as Json]], extra),
        expected: { answer: 'error', code: 'unknown_type' },
      })),
    fc.tuple(extras).map(([extra]) => ({
      text: object([], extra),
      expected: { answer: 'error', code: 'unknown_type' },
    })),
    fc
      .oneof(
        fc.constantFrom('[]', '[{"type":"ping"}]', 'null', '1', '"ping"', 'true', '1e400'),
        fc.array(hostileJson, { maxLength: 3 }).map(toJson),
      )
      .map((text) => ({ text, expected: { answer: 'error', code: 'invalid_frame' } })),
    fc
      .oneof(
        fc.constantFrom(
          '',
          '{',
          '{"type":"ping"',
          "{'type':'ping'}",
          '{"type":ping}',
          'ping',
          '\u0000',
          '{"type":"ping"}}',
        ),
        oddText.filter((t) => !isJson(t)),
      )
      .map((text) => ({ text, expected: { answer: 'error', code: 'invalid_json' } })),
  ) as fc.Arbitrary<Kind>;
  return fc.tuple(kinds, fc.nat({ max: 9 })).map(([k, roll]) =>
    // One frame in ten goes as a binary frame: the gateway reads it as the same UTF-8 text.
    frame(roll === 0 ? Buffer.from(k.text) : k.text, k.expected, roll === 0),
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
