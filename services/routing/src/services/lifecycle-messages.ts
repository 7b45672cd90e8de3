import { type Delivery, priorityMessage } from '@dibs/contracts';
import { type OutboxEntry, requestEvent, toSessionRequest } from '@dibs/db';
import { offeredTo } from '../domain/command-rules.js';
import type { SequenceStep } from '../domain/rules/sequence.js';
import type { RequestRow } from '../repositories/session-requests.repository.js';
import { toState } from '../repositories/session-requests.repository.js';

// What each state change tells the world: one lifecycle event, carrying the notifications the
// gateway turns into frames. It is written to the outbox in the transaction that made the change,
// so the change and its message commit, or vanish, together.

const update: Delivery = { type: 'request_update' };

/** The preferred mechanic's exclusive offer (the seed's payload and message), and the customer's update. */
export function priorityOfferMessages(row: RequestRow, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  return [
    requestEvent('priority_notified', request, {
      at,
      notify: [
        {
          type: 'priority_session_request',
          mechanic_id: request.preferred_mechanic_id as string,
          priority_window_minutes: request.priority_window_minutes,
          expires_at: request.priority_expires_at as string,
          message: priorityMessage(request.customer_name, request.priority_window_minutes),
          tier: 1,
        },
        update,
      ],
    }),
  ];
}

/** The offer to every mechanic except those who declined it, and the customer's update. */
export function broadcastMessages(row: RequestRow, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  return [
    requestEvent('broadcast', request, {
      at,
      notify: [
        { type: 'new_request', fallback_reason: request.fallback_reason, exclude_mechanic_ids: row.declined },
        update,
      ],
    }),
  ];
}

/** Whom a request was offered to, for its `request_taken` / `request_cancelled`; none when nobody was. */
function withdrawal(row: RequestRow, type: 'request_taken' | 'request_cancelled', winner?: string): Delivery[] {
  const offered = offeredTo(toState(row));
  if (offered === 'everyone') return [{ type, mechanic_id: null }];
  // A window (or a sequence's tier) was open, or over but not yet moved on: only its mechanic had seen it.
  if (offered !== 'nobody' && offered.mechanicId !== winner) return [{ type, mechanic_id: offered.mechanicId }];
  return [];
}

/**
 * A sequence's step (rules/sequence.ts), told from the row as the step left it: the mechanic
 * whose tier ended unanswered gets `offer_expired`; then either the next tier's mechanic gets its
 * priority offer (a `priority_notified` event), or everyone but the decliners gets the request (a
 * `broadcast` event); the customer gets the update either way.
 */
export function sequenceStepMessages(row: RequestRow, step: SequenceStep, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  const expired: Delivery[] =
    step.close?.outcome === 'timeout' ? [{ type: 'offer_expired', mechanic_id: step.close.mechanicId }] : [];
  if (step.open) {
    const { mechanicId, windowMinutes, expiresAt, tier } = step.open;
    return [
      requestEvent('priority_notified', request, {
        at,
        notify: [
          ...expired,
          {
            type: 'priority_session_request',
            mechanic_id: mechanicId,
            priority_window_minutes: windowMinutes,
            expires_at: new Date(expiresAt).toISOString(),
            message: priorityMessage(request.customer_name, windowMinutes),
            tier,
          },
          update,
        ],
      }),
    ];
  }
  return [
    requestEvent('broadcast', request, {
      at,
      notify: [
        ...expired,
        { type: 'new_request', fallback_reason: request.fallback_reason, exclude_mechanic_ids: row.declined },
        update,
      ],
    }),
  ];
}

/** The win, `request_taken` to whoever else had been offered the request, and the customer's update. */
export function acceptedMessages(row: RequestRow, mechanicId: string, at: Date): OutboxEntry[] {
  return [
    requestEvent('accepted', toSessionRequest(row), {
      actorMechanicId: mechanicId,
      at,
      price:
        row.price_cents === null || row.price_cents === undefined || !row.currency
          ? null
          : { cents: Number(row.price_cents), currency: row.currency },
      notify: [...withdrawal(row, 'request_taken', mechanicId), update],
    }),
  ];
}

/** A mechanic said no; the request itself is unchanged by it, and nobody is told. */
export function declinedMessages(row: RequestRow, mechanicId: string, at: Date): OutboxEntry[] {
  return [requestEvent('declined', toSessionRequest(row), { actorMechanicId: mechanicId, at })];
}

/** The cancellation, `request_cancelled` to whoever had been offered it, and the customer's update. */
export function cancelledMessages(row: RequestRow, at: Date): OutboxEntry[] {
  return [
    requestEvent('cancelled', toSessionRequest(row), { at, notify: [...withdrawal(row, 'request_cancelled'), update] }),
  ];
}
