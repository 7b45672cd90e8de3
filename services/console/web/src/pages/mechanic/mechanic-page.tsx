import type { SessionRequest } from '@dibs/client';
import { useState } from 'preact/hooks';
import { time } from '../../format.js';
import { Empty, Panel } from '../../ui.js';
import { AvailabilityPanel } from './availability-panel.js';
import { useLiveOffers } from './live-offers.js';
import { OffersPanel } from './offers-panel.js';
import { FavoritedByPanel, StatsPanel } from './stats-panel.js';

/** A mechanic's page: live offers to answer, what they took, availability, numbers, who favorited them. */
export function MechanicPage() {
  const live = useLiveOffers();
  const [taken, setTaken] = useState<SessionRequest[]>([]);
  // Answers change the numbers: the stats reload after each.
  const [answered, setAnswered] = useState(0);
  return (
    <>
      <h1>Your offers</h1>
      <OffersPanel
        live={live}
        onAccepted={(request) => {
          setTaken((list) => [request, ...list.filter((r) => r.id !== request.id)]);
          setAnswered((n) => n + 1);
        }}
        onDeclined={() => setAnswered((n) => n + 1)}
      />
      <Panel title="Taken by you">
        {taken.length === 0 ? (
          <Empty>Requests you accept here are listed here.</Empty>
        ) : (
          <ul class="list">
            {taken.map((r) => (
              <li key={r.id}>
                <strong>{r.customer_name ?? 'A customer'}</strong> — {r.session_type}, {r.plan_code}
                {r.customer_email ? <> · {r.customer_email}</> : null} · accepted {time(r.accepted_at)}
              </li>
            ))}
          </ul>
        )}
      </Panel>
      <div class="columns">
        <AvailabilityPanel />
        <div>
          <StatsPanel refreshKey={answered} />
          <FavoritedByPanel />
        </div>
      </div>
    </>
  );
}
