import type { CancelCommand, CommandReply, MechanicCommand } from '@dibs/contracts';
import { enqueue, type InTransaction, type Sql, toSessionRequest } from '@dibs/db';
import type { Logger } from '@dibs/logger';
import { cancelVerdict, declineVerdict } from '../domain/command-rules.js';
import type { Refusal } from '../domain/refusal.js';
import { acceptVerdict } from '../domain/rules/accept.js';
import type { RoutingMetrics } from '../metrics.js';
import { endOpenTier } from '../repositories/sequence.repository.js';
import {
  findMechanic,
  findRequest,
  insertDecline,
  lockRequest,
  lockRequests,
  markAccepted,
  markBroadcast,
  markCancelled,
  type RequestRow,
  toState,
} from '../repositories/session-requests.repository.js';
import { acceptedMessages, broadcastMessages, cancelledMessages, declinedMessages } from './lifecycle-messages.js';
import type { RequestRouter } from './request-router.js';

export interface CommandServiceOptions {
  db: Sql;
  inTransaction: InTransaction;
  router: RequestRouter;
  minuteMs: number;
  clock: () => number;
  logger: Logger;
  metrics: RoutingMetrics;
}

const ok = (row: RequestRow): CommandReply => ({ ok: true, request: toSessionRequest(row) });
const refused = (r: Refusal): CommandReply => ({ ok: false, code: r.code, detail: r.detail });

/**
 * accept / decline / cancel: routing is the single writer of a request's status, so intake's HTTP
 * routes and the WebSocket gateway both come here (request-reply, shared queue group).
 */
export function createCommandService(opts: CommandServiceOptions) {
  const { db, inTransaction, router, minuteMs, clock, logger, metrics } = opts;

  async function accept(cmd: MechanicCommand): Promise<CommandReply> {
    for (let round = 0; round < 2; round++) {
      const now = new Date(clock());
      const won = await inTransaction(async (tx) => {
        // The row lock first, then the guarded UPDATE in a statement of its own: an UPDATE that
        // waited for the lock would re-check its WHERE on the new row but its subqueries (a
        // sequence's open tier, the declines) on the snapshot from before the wait, and could
        // let the mechanic of a tier that just ended win. A statement started after the lock
        // sees everything committed before it.
        await lockRequests(tx, [cmd.request_id]);
        let row = await markAccepted(tx, cmd.request_id, cmd.mechanic_id, now);
        if (!row) return null;
        const acceptedAt = new Date(row.accepted_at as Date);
        // Before the broadcast, a sequence's open tier was this mechanic's (the accept rule): it
        // ends accepted. Should it not be, the accept is undone rather than let through.
        if (row.routing_type === 'priority_sequence' && row.broadcast_at === null) {
          if (!(await endOpenTier(tx, row.id, 'accepted', acceptedAt, cmd.mechanic_id))) {
            throw new Error(`accept of ${row.id} by ${cmd.mechanic_id} matched no open tier of theirs`);
          }
          row = await findRequest(tx, row.id);
        }
        // The event's time is the stored one, which the statement may have moved past `now`.
        if (row) await enqueue(tx, acceptedMessages(row, cmd.mechanic_id, acceptedAt));
        return row;
      });
      if (won) {
        logger.info({ request_id: cmd.request_id, mechanic_id: cmd.mechanic_id }, 'request accepted');
        await router.committed('accepted', [cmd.request_id]);
        return ok(won);
      }
      // The UPDATE matched nothing: read the request as it is now to say why.
      const [row, mechanic] = await Promise.all([findRequest(db, cmd.request_id), findMechanic(db, cmd.mechanic_id)]);
      const verdict = acceptVerdict({
        request: row ? toState(row) : null,
        mechanicId: cmd.mechanic_id,
        mechanic,
        declinedByMechanic: row?.declined.includes(cmd.mechanic_id) ?? false,
        now: clock(),
        minuteMs,
      });
      if (verdict.ok === false) return refused(verdict);
      if (verdict.ok === true) {
        // Won by this very mechanic earlier (a retried command), or the state moved on between the
        // UPDATE and the read: answer from the row if it is ours, else try once more.
        if (verdict.repeat && row) return ok(row);
        continue;
      }
      // Nobody was offered it yet (its `created` event is still on its way): route it now.
      await router.route(cmd.request_id);
    }
    return { ok: false, code: 'unavailable', detail: 'the request is being routed; try again' };
  }

  async function decline(cmd: MechanicCommand): Promise<CommandReply> {
    const now = new Date(clock());
    const result = await inTransaction(async (tx) => {
      const row = await lockRequest(tx, cmd.request_id);
      const mechanic = await findMechanic(tx, cmd.mechanic_id);
      const verdict = declineVerdict({
        request: row ? toState(row) : null,
        mechanicId: cmd.mechanic_id,
        mechanic,
        alreadyDeclined: row?.declined.includes(cmd.mechanic_id) ?? false,
      });
      if (!verdict.ok || !row) return { verdict, row, broadcast: false };
      if (!verdict.record) return { verdict, row, broadcast: false };
      await insertDecline(tx, cmd.request_id, cmd.mechanic_id, now);
      const declined = { ...row, declined: [...row.declined, cmd.mechanic_id] };
      await enqueue(tx, declinedMessages(declined, cmd.mechanic_id, now));
      if (!verdict.broadcast) return { verdict, row: declined, broadcast: false };
      if (row.routing_type === 'priority_sequence') {
        // The open tier's mechanic said no: the next tier (or everyone) gets it now, in the same transaction.
        const stepped = await router.sequences.stepLocked(tx, [cmd.request_id], now.getTime());
        const after = await findRequest(tx, cmd.request_id);
        return { verdict, row: after ?? declined, broadcast: false, stepped };
      }
      // The preferred mechanic said no: everyone else gets it now, in the same transaction.
      const [broadcast = null] = await markBroadcast(
        tx,
        [{ id: cmd.request_id, reason: 'priority_declined', at: now }],
        'declined',
      );
      if (broadcast) await enqueue(tx, broadcastMessages(broadcast, new Date(broadcast.broadcast_at as Date)));
      return { verdict, row: broadcast ?? declined, broadcast: broadcast !== null };
    });
    if (!result.verdict.ok) return refused(result.verdict);
    const row = result.row as RequestRow;
    if (result.verdict.record) {
      logger.info({ request_id: cmd.request_id, mechanic_id: cmd.mechanic_id }, 'request declined');
      await router.committed('declined', [cmd.request_id]);
    }
    if (result.broadcast) {
      metrics.decisions.inc({ outcome: 'broadcast_priority_declined' });
      await router.committed('broadcast', [cmd.request_id]);
    }
    if ('stepped' in result && result.stepped) await router.sequences.report(result.stepped, 'decline');
    return ok(row);
  }

  async function cancel(cmd: CancelCommand): Promise<CommandReply> {
    const now = new Date(clock());
    const result = await inTransaction(async (tx) => {
      const row = await lockRequest(tx, cmd.request_id);
      const verdict = cancelVerdict({ request: row ? toState(row) : null, customerId: cmd.customer_id });
      if (!verdict.ok || !verdict.change || !row) return { verdict, row };
      let cancelled = (await markCancelled(tx, cmd.request_id, now)) as RequestRow;
      const cancelledAt = new Date(cancelled.cancelled_at as Date);
      // A sequence's open tier ends withdrawn; its mechanic is told (cancelledMessages).
      if (
        cancelled.routing_type === 'priority_sequence' &&
        (await endOpenTier(tx, row.id, 'withdrawn', cancelledAt, null))
      ) {
        cancelled = (await findRequest(tx, row.id)) as RequestRow;
      }
      await enqueue(tx, cancelledMessages(cancelled, cancelledAt));
      return { verdict, row: cancelled };
    });
    if (!result.verdict.ok) return refused(result.verdict);
    if (result.verdict.change) {
      logger.info({ request_id: cmd.request_id }, 'request cancelled');
      await router.committed('cancelled', [cmd.request_id]);
    }
    return ok(result.row as RequestRow);
  }

  /** Runs a command and counts its result. */
  function counted<C>(name: string, fn: (cmd: C) => Promise<CommandReply>) {
    return async (cmd: C): Promise<CommandReply> => {
      const reply = await fn(cmd);
      metrics.commands.inc({ command: name, result: reply.ok ? 'ok' : reply.code });
      return reply;
    };
  }

  return { accept: counted('accept', accept), decline: counted('decline', decline), cancel: counted('cancel', cancel) };
}
export type CommandService = ReturnType<typeof createCommandService>;
