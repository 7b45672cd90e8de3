import { priorityMessage, relative, type SessionRequest } from '@dibs/contracts';
import { notification, type OutboxEntry, requestEvent, toSessionRequest } from '@dibs/db';
import { offeredTo } from '../domain/command-rules.js';
import type { RequestRow } from '../repositories/session-requests.repository.js';
import { toState } from '../repositories/session-requests.repository.js';

// What each state change tells the world. Every list is written to the outbox in the transaction
// that made the change, so the change and its messages commit, or vanish, together.

const update = (request: SessionRequest, at: Date) =>
  notification(relative.notifyCustomer(request.customer_id), { type: 'request_update', request }, at);

/** The preferred mechanic's exclusive offer (the seed's payload and message), and the customer's update. */
export function priorityOfferMessages(row: RequestRow, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  const mechanicId = request.preferred_mechanic_id as string;
  return [
    requestEvent('priority_notified', request, { at }),
    notification(
      relative.notifyMechanic(mechanicId),
      {
        type: 'priority_session_request',
        request,
        target_mechanic_id: mechanicId,
        priority_window_minutes: request.priority_window_minutes,
        expires_at: request.priority_expires_at as string,
        message: priorityMessage(request.customer_name, request.priority_window_minutes),
      },
      at,
    ),
    update(request, at),
  ];
}

/** The offer to every mechanic except those who declined it, and the customer's update. */
export function broadcastMessages(row: RequestRow, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  return [
    requestEvent('broadcast', request, { at }),
    notification(
      relative.notifyMechanics(),
      {
        type: 'new_request',
        request,
        routing_type: 'broadcast',
        fallback_reason: request.fallback_reason,
        ...(row.declined.length > 0 ? { exclude_mechanic_ids: row.declined } : {}),
      },
      at,
    ),
    update(request, at),
  ];
}

/** The win, `request_taken` to whoever else had been offered the request, and the customer's update. */
export function acceptedMessages(row: RequestRow, mechanicId: string, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  const entries = [requestEvent('accepted', request, { actorMechanicId: mechanicId, at })];
  const offered = offeredTo(toState(row));
  if (offered === 'everyone') {
    entries.push(notification(relative.notifyMechanics(), { type: 'request_taken', request_id: request.id }, at));
  } else if (offered === 'preferred' && request.preferred_mechanic_id !== mechanicId) {
    // The window was over but not yet broadcast: only the preferred mechanic had seen it.
    const preferred = request.preferred_mechanic_id as string;
    entries.push(
      notification(relative.notifyMechanic(preferred), { type: 'request_taken', request_id: request.id }, at),
    );
  }
  entries.push(update(request, at));
  return entries;
}

/** A mechanic said no; the request itself is unchanged by it. */
export function declinedMessages(row: RequestRow, mechanicId: string, at: Date): OutboxEntry[] {
  return [requestEvent('declined', toSessionRequest(row), { actorMechanicId: mechanicId, at })];
}

/** The cancellation, `request_cancelled` to whoever had been offered it, and the customer's update. */
export function cancelledMessages(row: RequestRow, at: Date): OutboxEntry[] {
  const request = toSessionRequest(row);
  const entries = [requestEvent('cancelled', request, { at })];
  const offered = offeredTo(toState(row));
  if (offered === 'everyone') {
    entries.push(notification(relative.notifyMechanics(), { type: 'request_cancelled', request_id: request.id }, at));
  } else if (offered === 'preferred') {
    const preferred = request.preferred_mechanic_id as string;
    entries.push(
      notification(relative.notifyMechanic(preferred), { type: 'request_cancelled', request_id: request.id }, at),
    );
  }
  entries.push(update(request, at));
  return entries;
}
