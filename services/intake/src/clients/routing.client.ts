import {
  type AnalyticsContracts,
  type AnalyticsReport,
  analyticsContract,
  COMMAND_ERROR_STATUS,
  type CommandReply,
  type NatsNames,
  type PayloadIn,
  type ReplyOut,
  type RoutingCommand,
  type RoutingContracts,
  routingContract,
  type SessionRequest,
} from '@dibs/contracts';
import { HttpProblem } from '@dibs/http';
import { request } from '@dibs/nats';
import type { NatsConnection } from '@nats-io/transport-node';

/** The `data` of a report's successful reply: the HTTP body of CONTRACT §3. */
export type ReportData<R extends AnalyticsReport> = Extract<ReplyOut<AnalyticsContracts[R]>, { ok: true }>['data'];

const unavailable = (who: string) =>
  new HttpProblem(503, 'unavailable', `${who} is not answering; retry shortly`, { 'retry-after': '2' });

/** Asks routing (request-reply) to apply a command; maps its error codes to HTTP problems. */
export function createRoutingClient(nc: NatsConnection, names: NatsNames, timeoutMs: number) {
  return {
    async send<C extends RoutingCommand>(command: C, payload: PayloadIn<RoutingContracts[C]>): Promise<SessionRequest> {
      let reply: CommandReply;
      try {
        reply = await request(nc, names, routingContract(command), payload, timeoutMs);
      } catch {
        throw unavailable('routing');
      }
      if (reply.ok) return reply.request;
      if (reply.code === 'unavailable') throw unavailable('routing');
      throw new HttpProblem(COMMAND_ERROR_STATUS[reply.code], reply.code, reply.detail ?? describe(reply.code));
    },
  };
}
export type RoutingClient = ReturnType<typeof createRoutingClient>;

/**
 * What a report's refusal means over HTTP; any other code (`unavailable`, or one this intake does
 * not know yet) is a 503.
 */
const REPORT_REFUSALS = new Map<string, { status: number; code: string; detail: string }>([
  ['invalid_command', { status: 400, code: 'validation_failed', detail: 'invalid query' }],
  ['not_found', { status: 404, code: 'not_found', detail: 'no such experiment' }],
  [
    'mixed_currencies',
    {
      status: 409,
      code: 'mixed_currencies',
      detail: 'the priced requests of this period span several currencies; name one with ?currency=',
    },
  ],
]);

/** Asks analytics (request-reply) for a report; returns its data, checked against the report's reply schema. */
export function createAnalyticsClient(nc: NatsConnection, names: NatsNames, timeoutMs: number) {
  return {
    async report<R extends AnalyticsReport>(
      report: R,
      query: PayloadIn<AnalyticsContracts[R]>,
    ): Promise<ReportData<R>> {
      let reply: ReplyOut<AnalyticsContracts[R]>;
      try {
        reply = await request(nc, names, analyticsContract(report), query, timeoutMs);
      } catch {
        throw unavailable('analytics');
      }
      if (reply.ok) return reply.data;
      const refusal = REPORT_REFUSALS.get(reply.code);
      if (refusal) throw new HttpProblem(refusal.status, refusal.code, reply.detail ?? refusal.detail);
      throw unavailable('analytics');
    },
  };
}
export type AnalyticsClient = ReturnType<typeof createAnalyticsClient>;

function describe(code: string): string {
  return (
    {
      not_found: 'no such session request',
      not_pending: 'the request is no longer pending',
      already_taken: 'another mechanic already accepted this request',
      already_accepted: 'the request was already accepted',
      priority_window_active: "the customer's preferred mechanic holds this request's priority window",
      mechanic_not_approved: 'only approved mechanics can take requests',
      forbidden: 'not allowed',
      invalid_command: 'invalid command',
    }[code] ?? code
  );
}
