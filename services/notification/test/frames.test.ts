import { randomUUID } from 'node:crypto';
import { mechanicView, renderFrame } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { ownFrame, relayedFrame } from '../src/connections/frames.js';
import { frameViolation } from './support/clients.js';
import { sessionRequest } from './support/requests.js';

const now = Date.parse('2025-01-01T10:00:00.000Z');
const request = sessionRequest({
  broadcast_at: '2025-01-01T10:00:00.000Z',
  created_at: '2025-01-01T09:59:00.000Z',
});
const sent = (frame: { data: Buffer }) => JSON.parse(frame.data.toString()) as unknown;

describe('gateway frames', () => {
  it('builds each of its own frames to match its schema', () => {
    const frames = [
      ownFrame({ type: 'hello', role: 'mechanic', user_id: randomUUID(), heartbeat_ms: 15_000 }, now),
      ownFrame(
        {
          type: 'snapshot',
          open_requests: [
            {
              kind: 'broadcast',
              request: mechanicView(request),
              expires_at: null,
              fallback_reason: null,
              tier: null,
              priority_window_minutes: null,
            },
          ],
        },
        now,
      ),
      ownFrame({ type: 'result', ref: 7, ok: true, request }, now),
      ownFrame({ type: 'result', ref: null, ok: false, code: 'already_taken', detail: 'too late' }, now),
      ownFrame({ type: 'error', code: 'invalid_json', detail: 'the frame is not valid JSON' }, now),
      ownFrame({ type: 'pong' }, now),
      ownFrame({ type: 'token_expiring', expires_at: new Date(now + 60_000).toISOString() }, now),
    ];
    for (const frame of frames) expect(frameViolation(sent(frame))).toBeUndefined();
  });

  it('relays rendered notifications that match their schemas', () => {
    const event = { id: randomUUID(), occurred_at: '2025-01-01T10:00:00.000Z', request };
    const frames = [
      renderFrame(event, { type: 'new_request', fallback_reason: 'priority_timeout', exclude_mechanic_ids: [] }),
      renderFrame(event, { type: 'request_taken', mechanic_id: null }),
      renderFrame(event, { type: 'request_update' }),
    ];
    for (const frame of frames) expect(frameViolation(sent(relayedFrame(frame)))).toBeUndefined();
  });

  it('tells a frame off its schema, or carrying what its schema leaves out', () => {
    expect(frameViolation({ id: 'x', type: 'pong', at: 'yesterday' })).toMatch(/off its schema/);
    expect(frameViolation({ id: 'x', type: 'surprise', at: new Date(now).toISOString() })).toMatch(/off its schema/);
    const offer = renderFrame(
      { id: randomUUID(), occurred_at: '2025-01-01T10:00:00.000Z', request },
      { type: 'new_request', fallback_reason: null, exclude_mechanic_ids: [] },
    );
    // A mechanic must never learn the customer's email (CONTRACT §4).
    expect(frameViolation({ ...offer, request })).toMatch(/carries fields/);
  });
});
