import type { Favorite, SessionRequest } from '@dibs/client';
import type { RoutingType } from '@dibs/contracts';
import { useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { shortId } from '../../format.js';
import { useAction } from '../../hooks.js';
import { Field, Outcome, Panel } from '../../ui.js';

const SESSION_TYPES = ['video', 'diagnostic', 'phone'];

/** Booking a session: to everyone, through one favorite first, or through the ranked favorites in turn. */
export function BookingPanel({
  favorites,
  onBooked,
}: {
  favorites: Favorite[];
  onBooked: (request: SessionRequest) => void;
}) {
  const { api } = useConsole();
  const [sessionType, setSessionType] = useState('video');
  const [plan, setPlan] = useState('basic');
  const [routing, setRouting] = useState<RoutingType>('broadcast');
  const [preferred, setPreferred] = useState('');
  const [run, state] = useAction();
  const ranked = favorites.filter((f) => f.rank !== null);
  const preferredId = preferred || favorites[0]?.mechanic_id || '';

  const book = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const body = { session_type: sessionType, plan_code: plan.trim() };
      let request: SessionRequest;
      if (routing === 'priority_sequence') request = await api.sessionRequests.bookSequence(body);
      else if (routing === 'priority_broadcast') {
        if (!preferredId) throw new Error('Pick the favorite to offer it to first.');
        request = await api.sessionRequests.book({
          ...body,
          routing_type: 'priority_broadcast',
          preferred_mechanic_id: preferredId,
        });
      } else request = await api.sessionRequests.book({ ...body, routing_type: 'broadcast' });
      onBooked(request);
      return `Booked: request ${shortId(request.id)}. Follow it below.`;
    });
  };

  return (
    <Panel title="Book a session">
      <form class="stack" onSubmit={book}>
        <div class="row">
          <Field label="Session type">
            <select value={sessionType} onChange={(e) => setSessionType(e.currentTarget.value)}>
              {SESSION_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Plan">
            <input required maxLength={100} value={plan} onInput={(e) => setPlan(e.currentTarget.value)} />
          </Field>
        </div>
        <fieldset class="choices">
          <legend>Who gets it first</legend>
          <label class="choice">
            <input
              type="radio"
              name="routing"
              checked={routing === 'broadcast'}
              onChange={() => setRouting('broadcast')}
            />
            Everyone at once
          </label>
          <label class="choice">
            <input
              type="radio"
              name="routing"
              checked={routing === 'priority_broadcast'}
              disabled={favorites.length === 0}
              onChange={() => setRouting('priority_broadcast')}
            />
            One favorite first, then everyone
          </label>
          {routing === 'priority_broadcast' ? (
            <Field label="Favorite">
              <select value={preferredId} onChange={(e) => setPreferred(e.currentTarget.value)}>
                {favorites.map((f) => (
                  <option key={f.mechanic_id} value={f.mechanic_id}>
                    {f.first_name} {f.last_name}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          <label class="choice">
            <input
              type="radio"
              name="routing"
              checked={routing === 'priority_sequence'}
              disabled={ranked.length === 0}
              onChange={() => setRouting('priority_sequence')}
            />
            My ranked favorites in turn, then everyone
          </label>
          {ranked.length === 0 ? <p class="hint">Rank a favorite to book in turn.</p> : null}
        </fieldset>
        <Outcome state={state} />
        <button type="submit" class="primary" disabled={state.busy}>
          Book
        </button>
      </form>
    </Panel>
  );
}
