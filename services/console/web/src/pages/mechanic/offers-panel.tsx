import type { LiveOffer, SessionRequest } from '@dibs/client';
import { DibsApiError } from '@dibs/client';
import { FALLBACK_LABELS, time } from '../../format.js';
import { useAction, useNow } from '../../hooks.js';
import { Countdown, Empty, Outcome, Panel } from '../../ui.js';
import type { Departure, LiveOffers } from './live-offers.js';

const CONNECTION_LABELS = {
  connecting: 'Connecting…',
  connected: 'Live',
  disconnected: 'Offline',
  closed: 'Closed',
} as const;

const DEPARTURE_LABELS: Record<Departure['reason'], string> = {
  taken: 'was taken by another mechanic',
  cancelled: 'was cancelled by the customer',
  expired: 'ended: your priority window passed',
  withdrawn: 'ended while you were offline',
  accepted: 'was accepted',
  declined: 'was declined',
};

/** The mechanic's open offers, live, with a countdown to each priority window's end. */
export function OffersPanel({
  live,
  onAccepted,
  onDeclined,
}: {
  live: LiveOffers;
  onAccepted: (request: SessionRequest) => void;
  onDeclined: () => void;
}) {
  const [run, state] = useAction();
  const newest = live.offers.find((o) => live.fresh.has(o.request_id));

  const answer = (offer: LiveOffer, how: 'accept' | 'decline') =>
    run(async () => {
      const conn = live.connection;
      if (!conn) throw new Error('Not connected yet.');
      live.acknowledge(offer.request_id);
      const who = offer.request.customer_name ?? 'the customer';
      try {
        if (how === 'accept') {
          const request = await conn.accept(offer.request_id);
          onAccepted(request);
          return `You accepted ${who}'s ${request.session_type} session.`;
        }
        await conn.decline(offer.request_id);
        onDeclined();
        return `You declined ${who}'s request.`;
      } catch (err) {
        if (err instanceof DibsApiError && err.code === 'already_taken') {
          throw new Error(`Too late: another mechanic took ${who}'s request (409 already_taken).`);
        }
        throw err;
      }
    });

  return (
    <Panel
      title="Live offers"
      actions={<ConnectionBadge state={live.state} retryAt={live.retryAt} error={live.error} />}
    >
      {newest ? (
        <div class="cue" role="alert">
          <span class="cue__mark" aria-hidden="true">
            ★
          </span>
          <p>
            <strong>New priority offer.</strong>{' '}
            {newest.message ?? `${newest.request.customer_name ?? 'A customer'} specifically requested you!`}
          </p>
          <button type="button" onClick={() => live.acknowledge()}>
            Seen
          </button>
        </div>
      ) : null}
      <Outcome state={state} />
      {live.departure ? (
        <p class="outcome" role="status">
          {live.departure.offer.request.customer_name ?? 'A'}'s request {DEPARTURE_LABELS[live.departure.reason]}.
        </p>
      ) : null}
      {live.offers.length === 0 ? (
        <Empty>
          {live.state === 'connected'
            ? 'No open offers right now. New ones appear here as they come.'
            : 'Waiting for the live connection…'}
        </Empty>
      ) : (
        <ul class="offers" aria-label="Open offers">
          {live.offers.map((offer) => (
            <OfferCard
              key={offer.request_id}
              offer={offer}
              fresh={live.fresh.has(offer.request_id)}
              busy={state.busy}
              onAnswer={(how) => void answer(offer, how)}
            />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function OfferCard({
  offer,
  fresh,
  busy,
  onAnswer,
}: {
  offer: LiveOffer;
  fresh: boolean;
  busy: boolean;
  onAnswer: (how: 'accept' | 'decline') => void;
}) {
  const r = offer.request;
  const who = r.customer_name ?? 'a customer';
  const priority = offer.kind === 'priority';
  const heading = priority
    ? `Priority offer${offer.tier && offer.tier > 1 ? ` (tier ${offer.tier})` : ''} from ${who}`
    : `Open request from ${who}`;
  // This tier's own start (a sequence's later tiers start after the first offer).
  const offeredAt = r.offers.find((o) => o.tier === offer.tier)?.offered_at ?? r.priority_notified_at;
  const windowMs = offer.expires_at && offeredAt ? Date.parse(offer.expires_at) - Date.parse(offeredAt) : undefined;
  return (
    <li class={`offer${priority ? ' offer--priority' : ''}${fresh ? ' offer--fresh' : ''}`}>
      <article aria-label={heading}>
        <h3>{heading}</h3>
        <p class="offer__what">
          {r.session_type} · plan {r.plan_code} · requested {time(r.created_at)}
        </p>
        {priority ? (
          <p>{offer.message ?? `${who} specifically requested you!`}</p>
        ) : (
          <p class="hint">
            Sent to every available mechanic
            {offer.fallback_reason ? ` because ${FALLBACK_LABELS[offer.fallback_reason]}` : ''}: the first to accept
            gets it.
          </p>
        )}
        {priority && offer.expires_at ? (
          <p class="offer__time">
            <Countdown until={offer.expires_at} totalMs={windowMs} label={`Time left to answer ${who}`} /> · only you
            until {time(offer.expires_at)}
          </p>
        ) : null}
        <div class="buttons">
          <button type="button" class="primary" disabled={busy} onClick={() => onAnswer('accept')}>
            Accept<span class="sr-only"> {who}'s request</span>
          </button>
          <button type="button" disabled={busy} onClick={() => onAnswer('decline')}>
            Decline<span class="sr-only"> {who}'s request</span>
          </button>
        </div>
      </article>
    </li>
  );
}

function ConnectionBadge({
  state,
  retryAt,
  error,
}: {
  state: LiveOffers['state'];
  retryAt: number | undefined;
  error: string | undefined;
}) {
  const now = useNow(1000);
  const retry = retryAt && retryAt > now ? ` — reconnecting in ${Math.ceil((retryAt - now) / 1000)} s` : '';
  return (
    <span class={`badge badge--${state}`} role="status" title={error}>
      {CONNECTION_LABELS[state]}
      {state === 'disconnected' ? retry : ''}
    </span>
  );
}
