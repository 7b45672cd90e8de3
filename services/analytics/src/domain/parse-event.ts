import { EVENT_VERSION, type RequestEvent, RequestEventSchema } from '@dibs/contracts';

export type ParsedEvent = { ok: true; event: RequestEvent } | { ok: false; reason: string };

/**
 * Decodes one message of the EVENTS stream. Anything that is not a v1 lifecycle event is
 * rejected with a reason: redelivering it would never make it readable, so the caller
 * terminates it instead of retrying.
 */
export function parseEvent(data: Uint8Array): ParsedEvent {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const version = (body as { v?: unknown } | null)?.v;
  if (version !== EVENT_VERSION) return { ok: false, reason: `unknown event version ${JSON.stringify(version)}` };
  const parsed = RequestEventSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `invalid event: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim() };
  }
  return { ok: true, event: parsed.data };
}
