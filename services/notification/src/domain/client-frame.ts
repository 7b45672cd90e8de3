import { CLIENT_FRAME_TYPES, type ClientFrame, ClientFrameSchema } from '@dibs/contracts';

/** Client frames larger than this are refused (CONTRACT §4). */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

export type FrameProblem = 'invalid_json' | 'frame_too_large' | 'unknown_type' | 'invalid_frame';

/**
 * What to do with one client frame: act on it, answer a malformed command (accept/decline) with
 * `invalid_command` (it has a `ref` to answer to), or answer with an `error` frame.
 */
export type ParsedClientFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; answer: 'result'; code: 'invalid_command'; ref: unknown; detail: string }
  | { ok: false; answer: 'error'; code: FrameProblem; detail: string };

/** Parses a raw client frame (its UTF-8 text and byte size). */
export function parseClientFrame(text: string, byteLength: number): ParsedClientFrame {
  if (byteLength > MAX_CLIENT_FRAME_BYTES) {
    return {
      ok: false,
      answer: 'error',
      code: 'frame_too_large',
      detail: `frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, answer: 'error', code: 'invalid_json', detail: 'the frame is not valid JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, answer: 'error', code: 'invalid_frame', detail: 'a frame is one JSON object' };
  }
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      answer: 'error',
      code: 'unknown_type',
      detail: `type must be one of ${CLIENT_FRAME_TYPES.join(', ')}`,
    };
  }
  const parsed = ClientFrameSchema.safeParse(body);
  if (!parsed.success) {
    // A command is answered by a result (it has a ref to echo); a `seen` never gets a result.
    if (type === 'seen')
      return { ok: false, answer: 'error', code: 'invalid_frame', detail: 'request_id must be a uuid' };
    const ref = (body as { ref?: unknown }).ref ?? null;
    return { ok: false, answer: 'result', code: 'invalid_command', ref, detail: 'request_id must be a uuid' };
  }
  return { ok: true, frame: parsed.data };
}
