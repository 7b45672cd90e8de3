import {
  type Delivery,
  type EventKind,
  eventKindOf,
  type Notification,
  type RequestEvent,
  RequestEventSchema,
  renderFrame,
} from '@dibs/contracts';

export type OfferKind = 'priority' | 'broadcast';

/** Who a notification addresses. */
export type Audience = { kind: 'mechanic'; id: string } | { kind: 'mechanics' } | { kind: 'customer'; id: string };

/**
 * What the gateway does with one delivery of a lifecycle event:
 * - `offer`: a request offered to mechanics (priority to one, broadcast to approved ones minus
 *   `exclude`); remembered per connection so a repeat of the same offer is never sent.
 * - `withdraw`: taken/cancelled/a sequence's tier expired; to every mechanic only to connections that were offered the
 *   request, to one mechanic to that mechanic.
 * - `update`: a customer's own request changed.
 */
export type DeliveryPlan =
  | {
      action: 'offer';
      audience: Audience;
      frame: Notification;
      requestId: string;
      offer: OfferKind;
      /** A priority offer's tier (1 for a single preferred mechanic); null for a broadcast. */
      tier: number | null;
      approvedOnly: boolean;
      exclude: ReadonlySet<string>;
    }
  | { action: 'withdraw'; audience: Audience; frame: Notification; requestId: string; onlyOffered: boolean }
  | { action: 'update'; audience: { kind: 'customer'; id: string }; frame: Notification };

/** Lifecycle events that never notify anyone: the gateway skips them by subject, unparsed. */
const SILENT_KINDS: ReadonlySet<EventKind> = new Set(['created', 'declined']);

// The registry's subject → kind lookup for each prefix (one per process in practice).
const kindOfByPrefix = new Map<string, (subject: string) => EventKind | undefined>();

/**
 * Whether an event on the absolute `subject` under `prefix` may carry notifications: a lifecycle
 * event of the registry (`contracts.events`) whose kind is not silent.
 */
export function mayNotify(prefix: string, subject: string): boolean {
  let kindOf = kindOfByPrefix.get(prefix);
  if (kindOf === undefined) {
    kindOf = eventKindOf(prefix);
    kindOfByPrefix.set(prefix, kindOf);
  }
  const kind = kindOf(subject);
  return kind !== undefined && !SILENT_KINDS.has(kind);
}

/** The event as published by routing, or undefined when it is not one this gateway understands. */
export function parseEvent(payload: unknown): RequestEvent | undefined {
  const parsed = RequestEventSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}

/** Who each delivery of `event` reaches and how, with its frame rendered once for every socket. */
export function planDeliveries(event: RequestEvent): DeliveryPlan[] {
  return event.notify.map((d) => planDelivery(event, d));
}

function planDelivery(event: RequestEvent, d: Delivery): DeliveryPlan {
  const requestId = event.request.id;
  const frame = renderFrame(event, d);
  switch (d.type) {
    case 'priority_session_request':
      return {
        action: 'offer',
        audience: { kind: 'mechanic', id: d.mechanic_id },
        frame,
        requestId,
        offer: 'priority',
        tier: d.tier,
        approvedOnly: false,
        exclude: NONE,
      };
    case 'new_request':
      return {
        action: 'offer',
        audience: { kind: 'mechanics' },
        frame,
        requestId,
        offer: 'broadcast',
        tier: null,
        approvedOnly: true,
        exclude: d.exclude_mechanic_ids.length > 0 ? new Set(d.exclude_mechanic_ids) : NONE,
      };
    case 'offer_expired':
      return {
        action: 'withdraw',
        audience: { kind: 'mechanic', id: d.mechanic_id },
        frame,
        requestId,
        onlyOffered: false,
      };
    case 'request_taken':
    case 'request_cancelled':
      return d.mechanic_id === null
        ? { action: 'withdraw', audience: { kind: 'mechanics' }, frame, requestId, onlyOffered: true }
        : {
            action: 'withdraw',
            audience: { kind: 'mechanic', id: d.mechanic_id },
            frame,
            requestId,
            onlyOffered: false,
          };
    case 'request_update':
      return { action: 'update', audience: { kind: 'customer', id: event.request.customer_id }, frame };
  }
}

const NONE: ReadonlySet<string> = new Set();
