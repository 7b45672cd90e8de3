import { type Notification, NotificationSchema } from '@dibs/contracts';

export type OfferKind = 'priority' | 'broadcast';

/** Who a notification subject addresses. */
export type Audience = { kind: 'mechanic'; id: string } | { kind: 'mechanics' } | { kind: 'customer'; id: string };

/**
 * What the gateway does with one notification:
 * - `offer`: a request offered to mechanics (priority to one, broadcast to approved ones minus
 *   `exclude`); remembered per connection so a repeat of the same offer is never sent.
 * - `withdraw`: taken/cancelled; on the all-mechanics subject only to connections that were
 *   offered the request, on a mechanic's own subject to that mechanic.
 * - `update`: a customer's own request changed.
 * - `ignore`: not for anyone on this subject (logged).
 */
export type DeliveryPlan =
  | {
      action: 'offer';
      audience: Audience;
      frame: Notification;
      requestId: string;
      offer: OfferKind;
      approvedOnly: boolean;
      exclude: ReadonlySet<string>;
    }
  | { action: 'withdraw'; audience: Audience; frame: Notification; requestId: string; onlyOffered: boolean }
  | { action: 'update'; customerId: string; frame: Notification }
  | { action: 'ignore'; reason: string };

/** The audience of an absolute `notify.*` subject under `prefix`, or undefined when it is none of ours. */
export function audienceOf(prefix: string, subject: string): Audience | undefined {
  const rest = subject.startsWith(`${prefix}.notify.`) ? subject.slice(prefix.length + 8) : undefined;
  if (rest === undefined) return undefined;
  if (rest === 'mechanics') return { kind: 'mechanics' };
  const [scope, id, ...more] = rest.split('.');
  if (!id || more.length > 0) return undefined;
  if (scope === 'mechanic') return { kind: 'mechanic', id };
  if (scope === 'customer') return { kind: 'customer', id };
  return undefined;
}

/** Decides the delivery of one published notification (payload as published by routing). */
export function planDelivery(audience: Audience, payload: unknown): DeliveryPlan {
  const parsed = NotificationSchema.safeParse(payload);
  if (!parsed.success) return { action: 'ignore', reason: 'payload is not a notification' };
  const n = parsed.data;
  switch (n.type) {
    case 'priority_session_request': {
      if (audience.kind === 'customer') return { action: 'ignore', reason: 'offer on a customer subject' };
      const target: Audience = { kind: 'mechanic', id: n.target_mechanic_id };
      return {
        action: 'offer',
        audience: target,
        frame: n,
        requestId: n.request.id,
        offer: 'priority',
        approvedOnly: false,
        exclude: NONE,
      };
    }
    case 'new_request': {
      if (audience.kind === 'customer') return { action: 'ignore', reason: 'offer on a customer subject' };
      // Routing → gateway only: which mechanics declined; never part of the frame (CONTRACT §4).
      const { exclude_mechanic_ids: excluded, ...frame } = n;
      return {
        action: 'offer',
        audience,
        frame,
        requestId: n.request.id,
        offer: 'broadcast',
        approvedOnly: true,
        exclude: excluded && excluded.length > 0 ? new Set(excluded) : NONE,
      };
    }
    case 'request_taken':
    case 'request_cancelled':
      if (audience.kind === 'customer') return { action: 'ignore', reason: `${n.type} on a customer subject` };
      return {
        action: 'withdraw',
        audience,
        frame: n,
        requestId: n.request_id,
        onlyOffered: audience.kind === 'mechanics',
      };
    case 'request_update':
      if (audience.kind !== 'customer') return { action: 'ignore', reason: 'request_update on a mechanic subject' };
      if (n.request.customer_id !== audience.id) return { action: 'ignore', reason: 'request of another customer' };
      return { action: 'update', customerId: audience.id, frame: n };
  }
}

const NONE: ReadonlySet<string> = new Set();
