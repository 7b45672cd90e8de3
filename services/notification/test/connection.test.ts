import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { Connection, type OutFrame } from '../src/connections/connection.js';
import { AbuseGuard } from '../src/domain/abuse-guard.js';

// A socket that records what the connection writes (a real one is used in the integration tests).
function fakeSocket() {
  const written: string[] = [];
  const ws = {
    readyState: 1,
    bufferedAmount: 0,
    send(data: Buffer) {
      written.push(JSON.parse(data.toString()).id);
    },
  };
  return { ws: ws as unknown as WebSocket, written };
}

function connection() {
  const { ws, written } = fakeSocket();
  const counted: string[] = [];
  const conn = new Connection(1, ws, 'mechanic', 'm', new AbuseGuard(10, 10, 0), {
    maxBufferedBytes: 1024,
    onOverflow: () => undefined,
    countSent: (type, n = 1) => counted.push(...Array(n).fill(type)),
  });
  return { conn, written, counted };
}

const frame = (id: string, type = 'new_request'): OutFrame => ({
  id,
  type,
  data: Buffer.from(JSON.stringify({ id, type })),
});

describe('Connection', () => {
  it('holds live frames until open(), then sends them in order, minus offers the snapshot made', () => {
    const { conn, written, counted } = connection();
    conn.offer(frame('e1', 'priority_session_request'), 'r1', 'priority', 1);
    conn.offer(frame('e2'), 'r2', 'broadcast', null);
    conn.update(frame('e3', 'request_update'));
    expect(written).toEqual([]);
    conn.markOffered('r1', 'priority', 1);
    conn.open();
    expect(written).toEqual(['e2', 'e3']);
    expect(counted).toEqual(['new_request', 'request_update']);
  });

  it('sends an offer once per request and kind, and a withdrawal only to a connection offered the request', () => {
    const { conn, written } = connection();
    conn.open();
    expect(conn.withdraw(frame('t0', 'request_taken'), 'r1', true)).toBe(0);
    expect(conn.offer(frame('e1', 'priority_session_request'), 'r1', 'priority', 1)).toBe(1);
    expect(conn.offer(frame('e1b', 'priority_session_request'), 'r1', 'priority', 1)).toBe(0);
    expect(conn.offer(frame('e2'), 'r1', 'broadcast', null)).toBe(1);
    expect(conn.withdraw(frame('t1', 'request_taken'), 'r1', true)).toBe(1);
    expect(conn.withdraw(frame('t1', 'request_taken'), 'r1', true)).toBe(0);
    expect(written).toEqual(['e1', 'e2', 't1']);
  });

  it('drops a repeated event id among other events', () => {
    const { conn, written } = connection();
    conn.open();
    conn.update(frame('u1', 'request_update'));
    conn.update(frame('u1', 'request_update'));
    conn.withdraw(frame('c1', 'request_cancelled'), 'r9', false);
    conn.withdraw(frame('c1', 'request_cancelled'), 'r9', false);
    expect(written).toEqual(['u1', 'c1']);
  });

  it("keeps request_taken from the winner even when it overtakes routing's reply, and gives it to a loser", () => {
    const winner = connection();
    const loser = connection();
    for (const { conn } of [winner, loser]) {
      conn.open();
      conn.offer(frame('e1'), 'r1', 'broadcast', null);
      conn.beginAccept('r1');
      conn.withdraw(frame('t1', 'request_taken'), 'r1', true);
    }
    expect(winner.written).toEqual(['e1']);
    expect(loser.written).toEqual(['e1']);
    winner.conn.endAccept('r1', true);
    loser.conn.endAccept('r1', false);
    expect(winner.written).toEqual(['e1']);
    expect(loser.written).toEqual(['e1', 't1']);
    expect(loser.counted).toEqual(['request_taken']);
  });

  it('answers a seen by what this connection was offered: the first counts, a repeat not, another request not at all', () => {
    const { conn } = connection();
    conn.open();
    expect(conn.seen('r1')).toEqual({ outcome: 'not_offered' });
    conn.offer(frame('e1', 'priority_session_request'), 'r1', 'priority', 2);
    expect(conn.seen('r1')).toEqual({ outcome: 'first', offer: 'priority', tier: 2 });
    expect(conn.seen('r1')).toEqual({ outcome: 'repeat' });
    conn.unsee('r1');
    expect(conn.seen('r1')).toEqual({ outcome: 'first', offer: 'priority', tier: 2 });
  });

  it('keeps an accepted priority offer seeable, but forgets a won broadcast', () => {
    const { conn } = connection();
    conn.open();
    conn.offer(frame('e1', 'priority_session_request'), 'r1', 'priority', 1);
    conn.offer(frame('e2'), 'r2', 'broadcast', null);
    for (const id of ['r1', 'r2']) {
      conn.beginAccept(id);
      conn.endAccept(id, true);
    }
    expect(conn.seen('r1')).toMatchObject({ outcome: 'first', offer: 'priority' });
    expect(conn.seen('r2')).toEqual({ outcome: 'not_offered' });
  });
});
