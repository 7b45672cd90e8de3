import { randomUUID } from 'node:crypto';
import { command, connect, createApi, email, matchesRequest, short, sleep } from './demo-client.mjs';
import { playSequence } from './demo-sequence.mjs';

// The seed's story, played against a running dibs through its public API and WebSockets only:
// a favorite mechanic gets a priority offer and accepts; a second booking times out and goes to
// everyone; a third is declined by the favorite and broadcast at once; then the analytics; then
// ranked favorites offered in sequence (demo-sequence.mjs), after the analytics so that its
// figures stay those of the seed's three bookings.

/**
 * Plays the story. `sign(role, sub)` returns a bearer token; `note(actor, text)` prints one
 * timeline line; `minuteMs` is how long a window minute lasts on the stack played against;
 * `onCast({ admin, mechanics, customer })`, when given, is awaited once the cast exists (each with
 * its `token`), before anything is booked. Resolves to what happened (request ids, who accepted,
 * the reports, the sequence) for tests.
 */
export async function playStory({ intakeUrl, gatewayUrl, sign, note, windowMs, minuteMs, timeoutMs = 30_000, onCast }) {
  const admin = await sign('admin', randomUUID());
  const api = createApi(intakeUrl);
  const sockets = [];
  try {
    const mechanics = {};
    for (const [first, last] of [
      ['Ada', 'Lovelace'],
      ['Ben', 'Franklin'],
      ['Cy', 'Young'],
    ]) {
      const m = await api('POST', '/v1/admin/mechanics', admin, mechanicBody(first, last), 201);
      await api('PATCH', `/v1/admin/mechanics/${m.id}`, admin, { status: 'approved' }, 200);
      mechanics[first] = { ...m, name: `${first} ${last}`, token: await sign('mechanic', m.id) };
    }
    note(
      'admin',
      `created and approved mechanics ${Object.values(mechanics)
        .map((m) => m.name)
        .join(', ')}`,
    );
    const customer = await api(
      'POST',
      '/v1/admin/customers',
      admin,
      { name: 'Casey Jones', email: email('casey') },
      201,
    );
    customer.token = await sign('customer', customer.id);
    note('admin', 'created customer Casey Jones');
    await onCast?.({ admin, mechanics, customer });
    await api('PUT', `/v1/favorites/${mechanics.Ada.id}`, customer.token, undefined, 201);
    note('Casey', 'marked Ada Lovelace as a favorite');
    await api('PATCH', '/v1/admin/feature-flags/ENABLE_FAVORITES_PRIORITY', admin, { is_enabled: true }, 200);
    note('admin', 'turned ENABLE_FAVORITES_PRIORITY on (no restart: it applies to requests from 1 s later)');
    await sleep(1200);

    const ws = {};
    for (const [name, m] of Object.entries(mechanics)) ws[name] = await connect(gatewayUrl, m.token, sockets);
    ws.Casey = await connect(gatewayUrl, customer.token, sockets);
    note('gateway', 'Ada, Ben and Cy are online over WebSockets (hello + snapshot); so is Casey');

    const book = async () => {
      const body = {
        session_type: 'diagnostic',
        plan_code: 'standard',
        preferred_mechanic_id: mechanics.Ada.id,
        routing_type: 'priority_broadcast',
      };
      return api('POST', '/v1/session-requests', customer.token, body, 201);
    };
    const wait = (socket, type, id) =>
      socket.next((f) => f.type === type && matchesRequest(f, id), timeoutMs, `${type} for ${id}`);

    // 1. Priority offer → the favorite accepts.
    const first = await book();
    note('Casey', `booked a diagnostic through favorite Ada (request ${short(first.id)})`);
    const offer = await wait(ws.Ada, 'priority_session_request', first.id);
    note('Ada', `got a priority offer: "${offer.message}"`);
    const accepted = await command(ws.Ada, 'accept', first.id, timeoutMs);
    note('Ada', `accepted over her socket → ${accepted.ok ? 'ok' : accepted.code}`);
    await ws.Casey.next(
      (f) => f.type === 'request_update' && f.request?.id === first.id && f.request.status === 'accepted',
      timeoutMs,
      'accepted update',
    );
    note('Casey', 'sees request accepted by Ada');

    // 2. Nobody answers inside the window → broadcast → another mechanic accepts.
    const second = await book();
    note('Casey', `booked again through Ada (request ${short(second.id)})`);
    await wait(ws.Ada, 'priority_session_request', second.id);
    note(
      'Ada',
      `got the priority offer… and stays silent (the window is ${Math.round(windowMs / 100) / 10} s in this demo)`,
    );
    const broadcast = await wait(ws.Ben, 'new_request', second.id);
    await wait(ws.Cy, 'new_request', second.id);
    note(
      'routing',
      `window ended unanswered → broadcast to every approved mechanic (fallback_reason: ${broadcast.fallback_reason})`,
    );
    const benTakes = await command(ws.Ben, 'accept', second.id, timeoutMs);
    note('Ben', `accepted → ${benTakes.ok ? 'ok' : benTakes.code}`);
    await wait(ws.Cy, 'request_taken', second.id);
    note('Cy', 'is told the request is taken');

    // 3. The favorite declines → broadcast at once.
    const third = await book();
    note('Casey', `booked a third time through Ada (request ${short(third.id)})`);
    await wait(ws.Ada, 'priority_session_request', third.id);
    const declined = await command(ws.Ada, 'decline', third.id, timeoutMs);
    note('Ada', `declined → ${declined.ok ? 'ok' : declined.code}`);
    const rebroadcast = await wait(ws.Cy, 'new_request', third.id);
    note(
      'routing',
      `broadcast at once, without waiting for the window (fallback_reason: ${rebroadcast.fallback_reason})`,
    );
    const cyTakes = await command(ws.Cy, 'accept', third.id, timeoutMs);
    note('Cy', `accepted → ${cyTakes.ok ? 'ok' : cyTakes.code}`);

    // 4. Analytics (its read model follows the events; wait until it has all three).
    const reports = await waitForReports(api, admin, mechanics.Ada.id, timeoutMs);
    const ada = reports.successRate.find((r) => r.mechanic_id === mechanics.Ada.id);
    note(
      'analytics',
      `Ada: ${ada.accepted_by_preferred} of ${ada.total_priority_requests} priority requests accepted (${ada.priority_success_rate} %)`,
    );
    note(
      'analytics',
      `timeouts: ${reports.timeoutRate.timed_out} of ${reports.timeoutRate.total_priority_requests} (${reports.timeoutRate.timeout_rate} %); fallbacks accepted: ${reports.fallbacks.accepted_after_fallback} of ${reports.fallbacks.total_fallbacks} (${reports.fallbacks.fallback_success_rate} %)`,
    );
    note(
      'analytics',
      `the favorite answers a priority offer in ${seconds(reports.responseTimes.avg_response_minutes)} on average`,
    );
    const stats = await api('GET', '/v1/mechanics/me/stats', mechanics.Ada.token, undefined, 200);
    note(
      'Ada',
      `her stats: favorited by ${stats.favorited_by}, ${stats.priority_accepted}/${stats.priority_requests} priority accepted`,
    );

    // 5. Ranked favorites, one at a time: Ada is away, Ben lets his tier pass, Cy takes tier 3.
    const sequence = await playSequence({ api, admin, mechanics, customer, ws, note, minuteMs, timeoutMs });

    return {
      requests: { accepted: first.id, timedOut: second.id, declined: third.id },
      winners: { timedOut: benTakes.ok ? 'Ben' : null, declined: cyTakes.ok ? 'Cy' : null },
      fallbackReasons: { timedOut: broadcast.fallback_reason, declined: rebroadcast.fallback_reason },
      reports,
      stats,
      sequence,
    };
  } finally {
    for (const s of sockets) s.close();
  }
}

async function waitForReports(api, admin, adaId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const successRate = await api('GET', '/v1/analytics/priority/success-rate?min_requests=1', admin, undefined, 200);
    const ada = successRate.find((r) => r.mechanic_id === adaId);
    const fallbacks = await api('GET', '/v1/analytics/priority/fallback-effectiveness', admin, undefined, 200);
    if (ada?.total_priority_requests === 3 && fallbacks.accepted_after_fallback >= 2) {
      return {
        successRate,
        fallbacks,
        responseTimes: await api('GET', '/v1/analytics/priority/response-times', admin, undefined, 200),
        timeoutRate: await api('GET', '/v1/analytics/priority/timeout-rate', admin, undefined, 200),
      };
    }
    if (Date.now() > deadline) throw new Error('analytics did not catch up with the three requests in time');
    await sleep(250);
  }
}

const mechanicBody = (first, last) => ({ first_name: first, last_name: last, email: email(first.toLowerCase()) });
const seconds = (minutes) => (minutes === null ? 'n/a' : `${(minutes * 60).toFixed(2)} s`);
