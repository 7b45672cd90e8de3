import { z } from 'zod';
import {
  ANALYTICS_REPORT_SCHEMAS,
  CancelCommandSchema,
  CommandReplySchema,
  MechanicCommandSchema,
  reportReplySchema,
} from './commands.js';
import { RequestEventSchema, SeenEventSchema } from './events.js';
import { type AnalyticsReport, EVENT_KINDS, type EventKind, type RoutingCommand, relative } from './subjects.js';

/**
 * One subject and what travels on it: `subject` relative to NATS_PREFIX (as the outbox stores it,
 * built by `relative`), `payload` the schema of each message. The typed helpers of `@dibs/nats`
 * and `@dibs/db` take a contract, so a subject and its payload cannot disagree.
 */
export interface MessageContract<S extends string = string, P extends z.ZodType = z.ZodType> {
  readonly subject: S;
  readonly payload: P;
}

/** A request-reply subject: `payload` is the request, `reply` the answer. */
export interface RequestContract<
  S extends string = string,
  P extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> extends MessageContract<S, P> {
  readonly reply: R;
}

/** What a sender passes for a contract's payload (before defaults and coercion). */
export type PayloadIn<C extends MessageContract> = z.input<C['payload']>;
/** What a receiver gets once the payload is parsed. */
export type PayloadOut<C extends MessageContract> = z.output<C['payload']>;
/** What a server answers with. */
export type ReplyIn<C extends RequestContract> = z.input<C['reply']>;
/** What a requester gets once the reply is parsed. */
export type ReplyOut<C extends RequestContract> = z.output<C['reply']>;
/**
 * Entry `C` seen through its payload and reply types only: what `routingContract` and
 * `analyticsContract` return to code generic over a command or report.
 */
export type RequestContractOf<C extends RequestContract> = RequestContract<
  C['subject'],
  z.ZodType<PayloadOut<C>, PayloadIn<C>>,
  z.ZodType<ReplyOut<C>, ReplyIn<C>>
>;

function event<K extends EventKind>(kind: K) {
  return { subject: relative.event(kind), payload: RequestEventSchema.extend({ kind: z.literal(kind) }) };
}

function routingCommand<C extends RoutingCommand, P extends z.ZodType>(command: C, payload: P) {
  return { subject: relative.routingCommand(command), payload, reply: CommandReplySchema };
}

function report<R extends AnalyticsReport, Q extends z.ZodType, D extends z.ZodType>(
  name: R,
  { query, data }: { query: Q; data: D },
) {
  return { subject: relative.analyticsReport(name), payload: query, reply: reportReplySchema(data) };
}

/**
 * Every subject dibs sends on, one entry each: lifecycle events per kind (JetStream, through the
 * outbox), routing commands per command and analytics reports per report (request-reply).
 */
export const contracts = {
  events: {
    created: event('created'),
    priority_notified: event('priority_notified'),
    broadcast: event('broadcast'),
    accepted: event('accepted'),
    declined: event('declined'),
    cancelled: event('cancelled'),
  },
  /** Seen acks (CONTRACT §7): published by the gateway, kept by analytics. */
  seen: { subject: relative.seen, payload: SeenEventSchema },
  routing: {
    accept: routingCommand('accept', MechanicCommandSchema),
    decline: routingCommand('decline', MechanicCommandSchema),
    cancel: routingCommand('cancel', CancelCommandSchema),
  },
  analytics: {
    success_rate: report('success_rate', ANALYTICS_REPORT_SCHEMAS.success_rate),
    response_times: report('response_times', ANALYTICS_REPORT_SCHEMAS.response_times),
    timeout_rate: report('timeout_rate', ANALYTICS_REPORT_SCHEMAS.timeout_rate),
    fallback_effectiveness: report('fallback_effectiveness', ANALYTICS_REPORT_SCHEMAS.fallback_effectiveness),
    mechanic_stats: report('mechanic_stats', ANALYTICS_REPORT_SCHEMAS.mechanic_stats),
    priority_skips: report('priority_skips', ANALYTICS_REPORT_SCHEMAS.priority_skips),
    experiment: report('experiment', ANALYTICS_REPORT_SCHEMAS.experiment),
    revenue: report('revenue', ANALYTICS_REPORT_SCHEMAS.revenue),
  },
} as const satisfies {
  events: { [K in EventKind]: MessageContract<`events.request.${K}`> };
  seen: MessageContract<'events.offer.seen'>;
  routing: { [C in RoutingCommand]: RequestContract<`cmd.routing.${C}`> };
  analytics: { [R in AnalyticsReport]: RequestContract<`cmd.analytics.${R}`> };
};

export type EventContracts = typeof contracts.events;
export type RoutingContracts = typeof contracts.routing;
export type AnalyticsContracts = typeof contracts.analytics;

// TypeScript cannot follow a type parameter into the registry's entries (`contracts.routing[C]`
// is the union of every entry), so code generic over a key gets its entry from these.

/** The entry of routing command `command`, typed by that command. */
export function routingContract<C extends RoutingCommand>(command: C): RequestContractOf<RoutingContracts[C]> {
  return contracts.routing[command] as unknown as RequestContractOf<RoutingContracts[C]>;
}

/** The entry of analytics report `report`, typed by that report. */
export function analyticsContract<R extends AnalyticsReport>(report: R): RequestContractOf<AnalyticsContracts[R]> {
  return contracts.analytics[report] as unknown as RequestContractOf<AnalyticsContracts[R]>;
}

/**
 * The lifecycle event kind of an absolute subject under `prefix`, from the registry's subjects;
 * undefined for any other subject. One map lookup per call (the gateway calls it per event).
 */
export function eventKindOf(prefix: string): (subject: string) => EventKind | undefined {
  const kinds = new Map<string, EventKind>(EVENT_KINDS.map((k) => [`${prefix}.${contracts.events[k].subject}`, k]));
  return (subject) => kinds.get(subject);
}
