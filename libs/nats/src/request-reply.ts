import type { Logger } from '@dibs/logger';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';

/**
 * Sends a request and parses the reply with `replySchema`. Throws when nobody answers in time
 * (the caller maps that to 503) or when the reply does not match the contract.
 */
export async function requestReply<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  replySchema: S,
  timeoutMs = 5000,
): Promise<z.infer<S>> {
  const msg = await nc.request(subject, JSON.stringify(payload), { timeout: timeoutMs });
  return replySchema.parse(msg.json());
}

/**
 * Serves request-reply on `subject` in queue group `queue` (replicas share the load). Each
 * request is validated with `requestSchema`; an invalid one gets `{ok:false, code:'invalid_command'}`
 * and a throwing handler `{ok:false, code:'unavailable'}`, so a caller is never left waiting.
 */
export function serveRequests<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  queue: string,
  requestSchema: S,
  handler: (req: z.infer<S>) => Promise<unknown>,
  logger: Logger,
): Subscription {
  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject }, 'request subscription failed');
        return;
      }
      void (async () => {
        let body: unknown;
        try {
          body = msg.json();
        } catch {
          msg.respond(JSON.stringify({ ok: false, code: 'invalid_command', detail: 'body is not JSON' }));
          return;
        }
        const parsed = requestSchema.safeParse(body);
        if (!parsed.success) {
          msg.respond(JSON.stringify({ ok: false, code: 'invalid_command', detail: parsed.error.message }));
          return;
        }
        try {
          msg.respond(JSON.stringify(await handler(parsed.data)));
        } catch (handlerErr) {
          logger.error({ err: handlerErr, subject }, 'request handler failed');
          msg.respond(JSON.stringify({ ok: false, code: 'unavailable', detail: 'try again' }));
        }
      })();
    },
  });
}
