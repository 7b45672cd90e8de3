import { EVENT_VERSION } from '@dibs/contracts';
import type { SeenAckOutcome } from '../adapters/gateway.metrics.js';
import type { Connection } from '../connections/connection.js';
import { ownFrame } from '../connections/frames.js';
import type { GatewayContext } from './context.js';

/**
 * A client's `{"type":"seen","request_id"}` (CONTRACT §7): the app showed an offer. The first one
 * per request on this connection is published as a seen event (the offer's kind and tier as this
 * connection got it, `seen_at` = the gateway's clock); a repeat is dropped. Neither gets an answer:
 * a seen is a receipt, sent once per offer shown, and nothing the app does depends on it.
 *
 * A seen of a request this connection was not offered, or from a customer (never offered
 * anything), gets the error frame `not_offered` and records nothing. It is not a strike: an
 * honest app meets it when its seen crosses the end of a broadcast (`request_taken`), or for an
 * offer made to an earlier connection that this one's snapshot no longer lists; the rate limit
 * already bounds what a flood of them costs (a map lookup each).
 */
export async function onSeen(ctx: GatewayContext, conn: Connection, requestId: string): Promise<void> {
  const now = ctx.clock();
  const seen = conn.role === 'mechanic' ? conn.seen(requestId) : ({ outcome: 'not_offered' } as const);
  if (seen.outcome === 'not_offered') {
    count(ctx, 'not_offered');
    const detail =
      conn.role === 'mechanic' ? 'this connection was not offered that request' : 'only mechanics are offered requests';
    conn.write(ownFrame({ type: 'error', code: 'not_offered', detail }, now));
    return;
  }
  if (seen.outcome === 'repeat') {
    count(ctx, 'repeat');
    return;
  }
  const published = await ctx.publishSeen({
    v: EVENT_VERSION,
    request_id: requestId,
    mechanic_id: conn.userId,
    offer: seen.offer,
    tier: seen.tier,
    seen_at: new Date(now).toISOString(),
  });
  // Not published: the app's next seen of this request (e.g. after a reconnect) may still count.
  if (!published) conn.unsee(requestId);
  count(ctx, published ? 'forwarded' : 'publish_failed');
  ctx.logger.debug({ mechanic_id: conn.userId, request_id: requestId, offer: seen.offer, published }, 'seen ack');
}

function count(ctx: GatewayContext, outcome: SeenAckOutcome): void {
  ctx.metrics.seenAcks.inc({ outcome });
}
