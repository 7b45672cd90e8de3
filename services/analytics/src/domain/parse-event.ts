import { EVENT_VERSION, type RequestEvent, RequestEventSchema, type SeenEvent, SeenEventSchema } from '@dibs/contracts';

export type ParsedEvent = { ok: true; event: RequestEvent } | { ok: false; reason: string };
export type ParsedSeen = { ok: true; seen: SeenEvent } | { ok: false; reason: string };
/** One message of the EVENTS stream, read by its subject: a lifecycle event or a seen ack. */
export type ParsedMessage =
  | { ok: true; event: RequestEvent; seen?: never }
  | { ok: true; seen: SeenEvent; event?: never }
  | { ok: false; reason: string };

/**
 * Decodes one lifecycle event. Anything that is not a v1 lifecycle event is rejected with a
 * reason: redelivering it would never make it readable, so the caller terminates it instead of
 * retrying.
 */
export function parseEvent(data: Uint8Array): ParsedEvent {
  const parsed = parseV1(data, RequestEventSchema, 'event');
  return parsed.ok ? { ok: true, event: parsed.value } : parsed;
}

/** Decodes one seen ack (`events.offer.seen`), rejecting what is not one as `parseEvent` does. */
export function parseSeen(data: Uint8Array): ParsedSeen {
  const parsed = parseV1(data, SeenEventSchema, 'seen ack');
  return parsed.ok ? { ok: true, seen: parsed.value } : parsed;
}

/**
 * The stream holds every subject under `events.>` (one consumer filter on NATS 2.9): a message on
 * `seenSubject` is a seen ack, any other a lifecycle event.
 */
export function parseMessage(subject: string, data: Uint8Array, seenSubject: string): ParsedMessage {
  if (subject !== seenSubject) return parseEvent(data);
  return parseSeen(data);
}

/** What `parseV1` needs of a zod schema. */
interface Schema<T> {
  safeParse(
    body: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

function parseV1<T>(
  data: Uint8Array,
  schema: Schema<T>,
  what: string,
): { ok: true; value: T } | { ok: false; reason: string } {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const version = (body as { v?: unknown } | null)?.v;
  if (version !== EVENT_VERSION) return { ok: false, reason: `unknown event version ${JSON.stringify(version)}` };
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `invalid ${what}: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim(),
    };
  }
  return { ok: true, value: parsed.data };
}
