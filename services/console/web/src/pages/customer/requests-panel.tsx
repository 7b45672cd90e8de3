import type { SessionRequest } from '@dibs/client';
import { useConsole } from '../../context.js';
import { FALLBACK_LABELS, OUTCOME_LABELS, ROUTING_LABELS, shortId, time } from '../../format.js';
import { useAction } from '../../hooks.js';
import { Countdown, Empty, Outcome, Panel } from '../../ui.js';
import type { MechanicNames } from './customer-page.js';
import type { LiveRequests } from './live-requests.js';

/** The customer's requests, each followed live through its tiers to the broadcast and the accept. */
export function RequestsPanel({ live, names }: { live: LiveRequests; names: MechanicNames }) {
  const { api } = useConsole();
  const [run, state] = useAction();
  const cancel = (r: SessionRequest) =>
    run(async () => {
      live.upsert(await api.sessionRequests.cancel(r.id));
      return `Request ${shortId(r.id)} is cancelled.`;
    });
  return (
    <Panel
      title="Your requests"
      actions={
        <span class={`badge badge--${live.state}`} role="status">
          {live.state === 'connected' ? 'Live' : live.state === 'connecting' ? 'Connecting…' : 'Offline'}
        </span>
      }
    >
      {live.error ? (
        <p class="outcome outcome--error" role="alert">
          {live.error}
        </p>
      ) : null}
      <Outcome state={state} />
      {live.requests.length === 0 ? <Empty>Nothing booked yet.</Empty> : null}
      <ul class="requests" aria-label="Requests">
        {live.requests.map((r) => (
          <RequestCard key={r.id} request={r} names={names} busy={state.busy} onCancel={() => void cancel(r)} />
        ))}
      </ul>
    </Panel>
  );
}

function RequestCard({
  request: r,
  names,
  busy,
  onCancel,
}: {
  request: SessionRequest;
  names: MechanicNames;
  busy: boolean;
  onCancel: () => void;
}) {
  const name = (id: string | null) => (id ? (names.get(id) ?? `mechanic ${shortId(id)}`) : 'a mechanic');
  const open = r.offers.find((o) => o.outcome === null && r.current_tier === o.tier);
  const label = `Request ${shortId(r.id)}`;
  return (
    <li class={`request request--${r.status}`}>
      <article aria-label={label}>
        <h3>
          {label} <span class={`badge badge--${r.status}`}>{r.status}</span>
        </h3>
        <p class="hint">
          {r.session_type} · plan {r.plan_code} · booked {time(r.created_at)} for {ROUTING_LABELS[r.routing_type]}
          {r.experiment ? ` · experiment ${r.experiment.key} (${r.experiment.arm})` : ''}
        </p>
        <p class="request__now">{now(r, name)}</p>
        {open?.expires_at ? (
          <p>
            <Countdown
              until={open.expires_at}
              totalMs={open.offered_at ? Date.parse(open.expires_at) - Date.parse(open.offered_at) : undefined}
              label={`Time left in tier ${open.tier}`}
            />
          </p>
        ) : null}
        {r.offers.length > 0 ? (
          <ol class="tiers" aria-label={`Tiers of ${label}`}>
            {r.offers.map((o) => (
              <li key={o.tier} class={o.outcome === null ? 'tier tier--open' : `tier tier--${o.outcome}`}>
                Tier {o.tier}: {name(o.mechanic_id)} — {o.outcome === null ? 'offered now' : OUTCOME_LABELS[o.outcome]}
                {o.offered_at ? <span class="hint"> (offered {time(o.offered_at)})</span> : null}
              </li>
            ))}
          </ol>
        ) : null}
        {r.status === 'pending' ? (
          <button type="button" class="link" disabled={busy} onClick={onCancel}>
            Cancel<span class="sr-only"> {label}</span>
          </button>
        ) : null}
      </article>
    </li>
  );
}

/** Where the request is now, in a sentence. */
function now(r: SessionRequest, name: (id: string | null) => string): string {
  if (r.status === 'accepted') return `Accepted by ${name(r.mechanic_id)} at ${time(r.accepted_at)}.`;
  if (r.status === 'cancelled') return `Cancelled at ${time(r.cancelled_at)}.`;
  if (r.current_tier !== null) {
    const tier = r.offers.find((o) => o.tier === r.current_tier);
    return `Tier ${r.current_tier}: offered to ${name(tier?.mechanic_id ?? r.preferred_mechanic_id)} only.`;
  }
  if (r.broadcast_at) {
    const why = r.fallback_reason ? ` because ${FALLBACK_LABELS[r.fallback_reason]}` : '';
    return `Sent to every available mechanic${why}; waiting for one to accept.`;
  }
  return 'Being routed…';
}
