import { z } from 'zod';
import { SessionRequestSchema } from './session-request.js';
import { EVENT_KINDS, type EventKind } from './subjects.js';

/** Current version of the event envelope; consumers terminate messages of any other version. */
export const EVENT_VERSION = 1;

/**
 * A lifecycle event of one session request, published on `events.request.<kind>`.
 * `id` is the outbox row id, which is also the JetStream `Nats-Msg-Id`, so it identifies the
 * event across redeliveries and replays. `request` is the row right after the change.
 */
export const RequestEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  id: z.uuid(),
  kind: z.enum(EVENT_KINDS),
  occurred_at: z.iso.datetime({ offset: true }),
  request: SessionRequestSchema,
  /** The mechanic who acted (accepted or declined), when one did. */
  actor_mechanic_id: z.uuid().nullable().default(null),
});
export type RequestEvent = z.infer<typeof RequestEventSchema>;
export type RequestEventOf<K extends EventKind> = RequestEvent & { kind: K };
