import type { NatsNames, RequestContract } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';

/**
 * Sends `payload` on `contract`'s subject and parses the reply with its reply schema. Throws when
 * nobody answers in time (the caller maps that to 503) or when the reply does not match the contract.
 */
export async function request<P extends z.ZodType, R extends z.ZodType>(
  nc: NatsConnection,
  names: Pick<NatsNames, 'abs'>,
  contract: RequestContract<string, P, R>,
  payload: NoInfer<z.input<P>>,
  timeoutMs = 5000,
): Promise<z.output<R>> {
  const msg = await nc.request(names.abs(contract.subject), JSON.stringify(payload), { timeout: timeoutMs });
  return contract.reply.parse(msg.json());
}

/**
 * Serves `contract` in queue group `queue` (replicas share the load). Each request is validated
 * with the contract's payload schema; an invalid one gets `{ok:false, code:'invalid_command'}` and
 * a throwing handler `{ok:false, code:'unavailable'}`, so a caller is never left waiting. The
 * handler's answer is typed by the reply schema, not parsed.
 */
export function serve<P extends z.ZodType, R extends z.ZodType>(
  nc: NatsConnection,
  names: Pick<NatsNames, 'abs'>,
  contract: RequestContract<string, P, R>,
  queue: string,
  handler: NoInfer<(req: z.output<P>) => Promise<z.input<R>>>,
  logger: Logger,
): Subscription {
  return serveOn(nc, names.abs(contract.subject), queue, contract.payload, handler, logger);
}

function serveOn<S extends z.ZodType>(
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
