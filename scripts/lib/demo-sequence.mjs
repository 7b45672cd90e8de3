import { command, matchesRequest, short } from './demo-client.mjs';

// Ranked favorites offered in sequence (CONTRACT §6), played with the seed story's cast: Casey
// ranks Ada, Ben and Cy; Ada says she is away and is skipped; Ben is offered tier 2 and lets it
// pass (his socket gets `offer_expired`); Cy is offered tier 3 and accepts. The tiers' windows are
// the mechanics' own (PATCH /v1/admin/mechanics/:id), not the shared `tier_windows_minutes`, so
// playing against a stack someone else runs changes nothing but the demo's own mechanics.

/** Ben's tier: one minute, which the demo waits out. */
const BEN_MINUTES = 1;
/** Cy's tier: as long as the seed's window, so that Cy's accept never races the tier's end. */
const CY_MINUTES = 10;

/**
 * Plays the sequence on the story's mechanics, customer and open sockets (`ws` by name).
 * Resolves to the request as it ends, the frames each socket got about it, and the two accepts.
 */
export async function playSequence({ api, admin, mechanics, customer, ws, note, minuteMs, timeoutMs }) {
  const { Ada, Ben, Cy } = mechanics;
  const names = new Map(Object.entries(mechanics).map(([name, m]) => [m.id, name]));
  const duration = (minutes) =>
    `${minutes} minute${minutes === 1 ? '' : 's'} (${Math.round((minutes * minuteMs) / 100) / 10} s here)`;
  const offers = (request) =>
    request.offers.map((o) => `tier ${o.tier} ${names.get(o.mechanic_id)} ${o.outcome ?? 'open'}`).join(', ');

  for (const m of [Ben, Cy]) await api('PUT', `/v1/favorites/${m.id}`, customer.token, undefined, 201);
  const order = { mechanic_ids: [Ada.id, Ben.id, Cy.id] };
  const favorites = await api('PUT', '/v1/favorites/order', customer.token, order, 200);
  const ranks = favorites.filter((f) => f.rank !== null).map((f) => `${f.rank}. ${f.first_name}`);
  note('Casey', `added Ben and Cy as favorites too, and ranked them: ${ranks.join(', ')}`);
  await api('PATCH', `/v1/admin/mechanics/${Ben.id}`, admin, { priority_window_minutes: BEN_MINUTES }, 200);
  await api('PATCH', `/v1/admin/mechanics/${Cy.id}`, admin, { priority_window_minutes: CY_MINUTES }, 200);
  note('admin', `gave Ben a priority window of ${duration(BEN_MINUTES)} and Cy one of ${duration(CY_MINUTES)}`);
  const away = { available: false, schedule: null, timezone: 'UTC' };
  await api('PUT', '/v1/mechanics/me/availability', Ada.token, away, 200);
  note('Ada', 'says she is away (PUT /v1/mechanics/me/availability {available: false})');

  const body = { session_type: 'diagnostic', plan_code: 'standard', routing_type: 'priority_sequence' };
  const booked = await api('POST', '/v1/session-requests', customer.token, body, 201);
  const id = booked.id;
  note('Casey', `booked with routing_type priority_sequence: ranked favorites, one at a time (request ${short(id)})`);
  const wait = (socket, type, what = type, match = () => true) =>
    socket.next((f) => f.type === type && matchesRequest(f, id) && match(f), timeoutMs, `${what} for ${id}`);
  const update = (what, match) => wait(ws.Casey, 'request_update', what, (f) => match(f.request));

  const benOffer = await wait(ws.Ben, 'priority_session_request');
  note('Ben', `got the tier ${benOffer.tier} offer (Ada, away, was skipped): "${benOffer.message}"`);
  const atTier2 = await update('update at tier 2', (r) => r.current_tier === 2);
  note('Casey', `sees current_tier ${atTier2.request.current_tier}: ${offers(atTier2.request)}`);
  note('Ben', `lets the tier pass: ${duration(benOffer.priority_window_minutes)}…`);
  await wait(ws.Ben, 'offer_expired');
  note('Ben', 'got offer_expired: the offer is gone');
  const cyOffer = await wait(ws.Cy, 'priority_session_request');
  note('Cy', `got the tier ${cyOffer.tier} offer: "${cyOffer.message}"`);
  const atTier3 = await update('update at tier 3', (r) => r.current_tier === 3);
  note('Casey', `sees current_tier ${atTier3.request.current_tier}: ${offers(atTier3.request)}`);
  const benLate = await command(ws.Ben, 'accept', id, timeoutMs);
  note('Ben', `tries to accept anyway → ${benLate.ok ? 'ok' : benLate.code} (tier 3 is Cy's alone)`);
  const cyTakes = await command(ws.Cy, 'accept', id, timeoutMs);
  note('Cy', `accepted → ${cyTakes.ok ? 'ok' : cyTakes.code}`);
  await update('accepted update', (r) => r.status === 'accepted');
  note('Casey', 'sees request accepted by Cy');

  // Every frame is in by now: Casey's accepted update is the last one the accept sends, and Ben,
  // whose tier had ended, is not told `request_taken` (only an open tier's mechanic would be).
  // The `result` replies to the sockets' own accepts are left out: they are answers, not news.
  const frames = {};
  for (const name of ['Ada', 'Ben', 'Cy', 'Casey']) {
    frames[name] = once(ws[name].seen((f) => f.type !== 'result' && matchesRequest(f, id))).map(describeFrame);
    note(name, `socket got for ${short(id)}: ${frames[name].join(', ') || 'nothing'}`);
  }
  const request = await api('GET', `/v1/session-requests/${id}`, customer.token, undefined, 200);
  note(
    'Casey',
    `request ${short(id)} ends ${request.status} by ${names.get(request.mechanic_id)}; offers: ${offers(request)}`,
  );
  return { request, frames, lateAccept: benLate, accept: cyTakes };
}

/** Frames as a client keeps them: a repeat of an event (same `id`) is dropped. */
function once(frames) {
  const ids = new Set();
  return frames.filter((f) => !ids.has(f.id) && ids.add(f.id));
}

function describeFrame(frame) {
  if (frame.type === 'priority_session_request') return `${frame.type} (tier ${frame.tier})`;
  if (frame.type === 'request_update') {
    const r = frame.request;
    return `${frame.type} (${r.current_tier === null ? r.status : `current_tier ${r.current_tier}`})`;
  }
  return frame.type;
}
