import { type ConnectionState, DibsConnection, type LiveOffer, type OfferRemovalReason } from '@dibs/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';

/** An offer that just left the list, and why: said once in a status line. */
export interface Departure {
  offer: LiveOffer;
  reason: OfferRemovalReason;
}

export interface LiveOffers {
  connection: DibsConnection | undefined;
  state: ConnectionState;
  /** When the next reconnect is due, while disconnected. */
  retryAt: number | undefined;
  offers: LiveOffer[];
  /** Priority offers that arrived since the mechanic last looked: the visual cue. */
  fresh: ReadonlySet<string>;
  acknowledge(requestId?: string): void;
  departure: Departure | undefined;
  error: string | undefined;
}

/**
 * The mechanic's live offers through the SDK's connection: snapshot merged, repeats and stale
 * offers dropped by the SDK. Each offer shown while the page is visible is acked `seen` (once).
 */
export function useLiveOffers(): LiveOffers {
  const { runtime, token } = useConsole();
  const [connection, setConnection] = useState<DibsConnection | undefined>(undefined);
  const [state, setState] = useState<ConnectionState>('connecting');
  const [retryAt, setRetryAt] = useState<number | undefined>(undefined);
  const [offers, setOffers] = useState<LiveOffer[]>([]);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [departure, setDeparture] = useState<Departure | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const freshRef = useRef(new Set<string>());

  useEffect(() => {
    const conn = new DibsConnection({ url: runtime.wsUrl, token });
    const sync = () => setOffers(order(conn.offers()));
    const mark = (requestId: string, on: boolean) => {
      if (on) freshRef.current.add(requestId);
      else freshRef.current.delete(requestId);
      setFresh(new Set(freshRef.current));
    };
    conn.on('state', (next, info) => {
      setState(next);
      setRetryAt(next === 'disconnected' && info.delayMs !== undefined ? Date.now() + info.delayMs : undefined);
      if (next === 'connected') setError(undefined);
    });
    conn.on('offerAdded', (offer) => {
      sync();
      if (offer.kind === 'priority') mark(offer.request_id, true);
    });
    conn.on('offerReplaced', (offer, previous) => {
      sync();
      mark(
        offer.request_id,
        offer.kind === 'priority' && (previous.kind !== 'priority' || previous.tier !== offer.tier),
      );
    });
    conn.on('offerRemoved', (offer, reason) => {
      sync();
      mark(offer.request_id, false);
      if (reason !== 'accepted' && reason !== 'declined') setDeparture({ offer, reason });
    });
    conn.on('synced', sync);
    conn.on('error', (err) => setError(err.message));
    setConnection(conn);
    void conn.connect();
    return () => conn.close();
  }, [runtime.wsUrl, token]);

  // `seen` once an offer is on screen: now if the page is visible, else when it becomes so.
  useEffect(() => {
    if (!connection) return;
    const ack = () => {
      if (document.visibilityState !== 'visible') return;
      for (const offer of offers) connection.seen(offer.request_id);
    };
    ack();
    document.addEventListener('visibilitychange', ack);
    return () => document.removeEventListener('visibilitychange', ack);
  }, [connection, offers]);

  // The tab's title carries the cue too, for a mechanic looking at another tab.
  useEffect(() => {
    const base = document.title.replace(/^★ New priority offer · /, '');
    document.title = fresh.size > 0 ? `★ New priority offer · ${base}` : base;
  }, [fresh]);

  const acknowledge = (requestId?: string) => {
    if (requestId) freshRef.current.delete(requestId);
    else freshRef.current.clear();
    setFresh(new Set(freshRef.current));
  };
  return { connection, state, retryAt, offers, fresh, acknowledge, departure, error };
}

/** Priority offers first, the soonest to end first; then broadcasts, oldest first. */
function order(offers: LiveOffer[]): LiveOffer[] {
  const rank = (o: LiveOffer) => (o.kind === 'priority' ? 0 : 1);
  return [...offers].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.expires_at ?? '').localeCompare(b.expires_at ?? '') ||
      a.request.created_at.localeCompare(b.request.created_at),
  );
}
